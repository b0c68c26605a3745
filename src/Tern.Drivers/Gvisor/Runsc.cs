using System.Diagnostics;

namespace Tern.Drivers.Gvisor;

/// <summary>The runsc command lines of one daemon: every container lives under its own state root (--root), so a sweep
/// sees only this daemon's containers.</summary>
internal sealed class Runsc(string runscPath, string stateRoot, string platform)
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
        Directory.Exists(stateRoot) && Execute(["list", "-quiet"]) is { ExitCode: 0 } list
            ? list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];

    /// <summary>Kills a container if it runs and removes its state and runsc's own cgroups; a container that no longer
    /// exists is not an error.</summary>
    public void DeleteForce(string containerId)
    {
        if (Directory.Exists(stateRoot)) Execute(["delete", "--force", containerId]);
    }

    private IEnumerable<string> GlobalFlags() => ["--root", stateRoot, "--platform=" + platform];

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

    private (int ExitCode, string Output) Execute(IEnumerable<string> args)
    {
        var psi = Start();
        foreach (var arg in GlobalFlags().Concat(args)) psi.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(psi);
            if (process is null) return (-1, "");
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(10_000))
            {
                try { process.Kill(); } catch (InvalidOperationException) { }
                return (-1, "");
            }
            return (process.ExitCode, output.Wait(1000) ? output.Result : "");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return (-1, "");
        }
    }
}
