using System.Diagnostics;

namespace Tern.Drivers.Gvisor;

/// <summary>The runsc command lines of one daemon: every container lives under its own state root (--root), so a sweep
/// sees only this daemon's containers. The platform is decided late (<see cref="RunscPlatform"/>), hence a function.</summary>
internal sealed class Runsc(string runscPath, string stateRoot, Func<string> platform)
{
    public string Path { get; } = runscPath;

    /// <summary>`runsc run` in the foreground: it exits when the agent does, removing the container's state and the
    /// cgroups runsc made itself. The debug log (info level without --debug: a few KB) is the only place the reason
    /// for a failed create is written; the top-level error says only "waiting for sandbox to start: EOF".</summary>
    public ProcessStartInfo Run(string bundleDir, string containerId)
    {
        var psi = Start();
        foreach (var arg in GlobalFlags()) psi.ArgumentList.Add(arg);
        // No network: only the guest's own loopback. Filtered egress is the sandbox driver's alone (SupportsEgress).
        psi.ArgumentList.Add("--network=none");
        // The agent dials the socket the host listens on in /run/tern; `open` allows connecting to existing host
        // sockets only (not creating them), and the only one the guest's mounts show is the worker's own.
        psi.ArgumentList.Add("--host-uds=open");
        psi.ArgumentList.Add("--debug-log=" + System.IO.Path.Combine(bundleDir, "runsc-%COMMAND%.log"));
        psi.ArgumentList.Add("run");
        psi.ArgumentList.Add("--bundle");
        psi.ArgumentList.Add(bundleDir);
        psi.ArgumentList.Add(containerId);
        psi.RedirectStandardInput = true;
        return psi;
    }

    /// <summary>The ids of this daemon's containers, running or left behind.</summary>
    public IReadOnlyList<string> List() =>
        Directory.Exists(stateRoot) && Execute(GlobalFlags().Concat(["list", "-quiet"])) is { ExitCode: 0 } list
            ? list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];

    /// <summary>Kills a container if it runs and removes its state and runsc's own cgroups; a container that no longer
    /// exists is not an error.</summary>
    public void DeleteForce(string containerId)
    {
        if (Directory.Exists(stateRoot)) Execute(GlobalFlags().Concat(["delete", "--force", containerId]));
    }

    /// <summary>Whether this runsc knows <paramref name="platformName"/>: an unknown one fails runsc's flag check at once
    /// ("unknown platform: systrap" from a build that predates it). `list` starts nothing and creates no state
    /// directory, so the probe costs one short process (~40 ms). Its root is one that never exists, so containers another
    /// runsc version left in the real one cannot sway the answer.</summary>
    public (bool Known, string Error) Probe(string platformName)
    {
        var (exitCode, _, error) = Execute(["--root", stateRoot + "-probe", "--platform=" + platformName, "list"]);
        return (exitCode == 0, error.Trim());
    }

    /// <summary>"0.0~20240729.0" from `runsc --version`'s first line, or null when it does not run.</summary>
    public string? Version()
    {
        var (exitCode, output, _) = Execute(["--version"]);
        var first = output.Split('\n', 2)[0].Trim();
        return exitCode == 0 && first.StartsWith("runsc version ", StringComparison.Ordinal) ? first["runsc version ".Length..] : null;
    }

    private IEnumerable<string> GlobalFlags() => ["--root", stateRoot, "--platform=" + platform()];

    private ProcessStartInfo Start()
    {
        var psi = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        return psi;
    }

    private (int ExitCode, string Output, string Error) Execute(IEnumerable<string> args)
    {
        var psi = Start();
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(psi);
            if (process is null) return (-1, "", "could not start " + Path);
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(10_000))
            {
                try { process.Kill(); } catch (InvalidOperationException) { }
                return (-1, "", Path + " did not answer within 10 s");
            }
            return (process.ExitCode, output.Wait(1000) ? output.Result : "", error.Wait(1000) ? error.Result : "");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return (-1, "", e.Message);
        }
    }
}
