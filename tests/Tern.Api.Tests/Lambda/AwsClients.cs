using System.Diagnostics;
using Tern.Testing;

namespace Tern.Api.Tests.Lambda;

/// <summary>The real AWS clients of this machine: the `aws` CLI and a python3 that imports boto3. When either is
/// missing, scripts/install-deps.sh --test installs them first (Debian's awscli and python3-boto3); if one is still
/// missing after that, the test fails saying so (it is never skipped).</summary>
public static class AwsClients
{
    private static readonly Lazy<Task<(string Aws, string Python)>> Found = new(FindOrInstallAsync);

    public static Task<(string Aws, string Python)> GetAsync() => Found.Value;

    private static async Task<(string Aws, string Python)> FindOrInstallAsync()
    {
        if (await FindAsync() is { } found) return found;
        var (exit, output) = await RunAsync("/bin/bash", [Path.Combine(RepoPaths.Root, "scripts", "install-deps.sh"), "--test"], null, TimeSpan.FromMinutes(10));
        return await FindAsync() ?? throw new InvalidOperationException(
            $"the aws CLI or boto3 is missing, and scripts/install-deps.sh --test (exit {exit}) did not install them: {output}");
    }

    private static async Task<(string, string)?> FindAsync()
    {
        var aws = OnPath("aws");
        if (aws is null) return null;
        foreach (var python in new[] { OnPath("python3"), "/usr/bin/python3" })
            if (python is not null && File.Exists(python) && (await RunAsync(python, ["-c", "import boto3"], null, TimeSpan.FromSeconds(60))).Exit == 0)
                return (aws, python);
        return null;
    }

    private static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    /// <summary>Runs a program to the end (killed after <paramref name="timeout"/>); stdout and stderr together.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env,
        TimeSpan timeout, string? workingDirectory = null)
    {
        var (exit, stdout, stderr) = await RunSplitAsync(program, args, env, timeout, workingDirectory);
        return (exit, stdout + stderr);
    }

    public static async Task<(int Exit, string Stdout, string Stderr)> RunSplitAsync(string program, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? env, TimeSpan timeout, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        foreach (var (key, value) in env ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', psi.ArgumentList)} did not finish within {timeout}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
