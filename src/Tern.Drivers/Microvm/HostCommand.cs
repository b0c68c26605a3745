using System.Diagnostics;

namespace Tern.Drivers.Microvm;

/// <summary>Runs a host tool (apt-get, dpkg, mkfs.ext4, ldd) to completion and says what went wrong in one line.</summary>
internal static class HostCommand
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, string? workingDir = null,
        TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = workingDir ?? "",
        };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        psi.Environment["LC_ALL"] = "C";
        using var process = StartOrThrow(psi);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            throw new InvalidOperationException($"{Path.GetFileName(file)} did not finish within {(timeout ?? TimeSpan.FromMinutes(10)).TotalSeconds:0} s");
        }
        return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Runs and throws (one line: the tool, its exit code and the end of its stderr) unless it exits 0.</summary>
    public static async Task<string> CheckAsync(string file, IEnumerable<string> args, string? workingDir = null,
        TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var argList = args.ToList();
        var result = await RunAsync(file, argList, workingDir, timeout, ct).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            var tail = result.Stderr.Trim().Split('\n').TakeLast(3);
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', argList.Take(3))} failed (exit {result.ExitCode}): {string.Join(" | ", tail)}");
        }
        return result.Stdout;
    }

    private static Process StartOrThrow(ProcessStartInfo psi)
    {
        try
        {
            return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"could not start {psi.FileName}: {e.Message}", e);
        }
    }
}
