using System.Diagnostics;

namespace Tern.Drivers.Tests.Sandbox;

/// <summary>Runs a command on the host (outside any sandbox), optionally as another uid through setpriv.</summary>
internal static class HostCommand
{
    /// <summary>Returns the exit code and everything the command printed (stdout, then stderr).</summary>
    public static async Task<(int Code, string Output)> RunAsync(string file, params IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>As <paramref name="uid"/> (and the gid of the same number), with no supplementary groups and no
    /// capabilities: what any unprivileged process of that uid could do.</summary>
    public static Task<(int Code, string Output)> RunAsAsync(uint uid, params IEnumerable<string> command) =>
        RunAsync("/usr/bin/setpriv", new[] { "--reuid", uid.ToString(), "--regid", uid.ToString(), "--clear-groups", "--" }.Concat(command));
}
