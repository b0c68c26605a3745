using System.Diagnostics;

namespace Tern.Testing;

/// <summary>`promtool check metrics` (from Debian's prometheus package) on exposition text. If promtool is not on the PATH,
/// the project's own script installs it first (scripts/install-deps.sh --test, as scripts/test.sh runs it anyway); if it
/// is still missing after that, the check throws: a test that needs it fails rather than skips.</summary>
public static class Promtool
{
    private static readonly Lazy<Task<string>> Path = new(FindOrInstallAsync);

    /// <summary>Runs the check; returns its exit code and everything it printed (lint problems go to stdout or stderr
    /// depending on the version; a clean input prints nothing and exits 0).</summary>
    public static async Task<(int ExitCode, string Output)> CheckMetricsAsync(string exposition)
    {
        var psi = new ProcessStartInfo(await Path.Value)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add("check");
        psi.ArgumentList.Add("metrics");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }

    private static async Task<string> FindOrInstallAsync()
    {
        if (Find() is { } found) return found;
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(System.IO.Path.Combine(RepoPaths.Root, "scripts", "install-deps.sh"));
        psi.ArgumentList.Add("--test");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return Find() ?? throw new InvalidOperationException(
            $"promtool is not installed, and scripts/install-deps.sh --test (exit {process.ExitCode}) did not install it: {await stderr}{await stdout}");
    }

    private static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => System.IO.Path.Combine(dir, "promtool"))
            .FirstOrDefault(File.Exists);
}
