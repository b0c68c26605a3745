using System.Runtime.InteropServices;

namespace Tern.Agent;

/// <summary>Kills every process in the worker except PID 1 (bubblewrap's init) and the agent itself, so nothing a
/// handler detached (a daemonised child, a new session) outlives its call once workers are reused. Only active inside
/// a worker's own PID namespace (bubblewrap's, where PID 1 is bwrap, or gVisor's, where the agent itself is PID 1):
/// anywhere else "every other process" would not be ours to kill.</summary>
internal static class OrphanReaper
{
    private const int SIGKILL = 9;

    /// <summary>True inside a worker's own PID namespace (PID 1 is bwrap, or the agent) unless TERN_AGENT_REAP=0.</summary>
    public static bool Enabled { get; } = Detect();

    private static bool Detect()
    {
        if (Environment.GetEnvironmentVariable("TERN_AGENT_REAP") == "0") return false;
        try
        {
            // gVisor (as any OCI runtime) starts the agent as PID 1 of the worker's own PID namespace.
            if (Environment.ProcessId == 1) return true;
            return File.ReadAllText("/proc/1/comm").Trim() == "bwrap";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Sends SIGKILL to every other live process and waits (up to a second) until none is left running,
    /// killing again whatever appeared meanwhile (a forking loop). Returns how many kills were sent. Processes of
    /// another user (bwrap's init when run by root) are left alone.</summary>
    public static int KillStrays()
    {
        if (!Enabled) return 0;
        var self = Environment.ProcessId;
        // kill(-1) reaches every process we may signal but ourselves and PID 1, in one pass the kernel makes under the
        // lock fork needs, so a forking loop cannot outrun it. The sweep below then waits for them to die.
        _ = kill(-1, SIGKILL);
        var total = 0;
        var deadline = Environment.TickCount64 + 1000;
        for (var pass = 0; ; pass++)
        {
            var running = 0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == 1 || pid == self) continue;
                if (IsGone(dir)) continue;
                // A process already sent SIGKILL may not have been scheduled to die yet: send again and wait for it.
                if (kill(pid, SIGKILL) != 0) continue; // ESRCH: gone; EPERM: not ours
                running++;
                total++;
            }
            if (running == 0 || Environment.TickCount64 > deadline) return total;
            Thread.Sleep(pass < 10 ? 1 : 10);
        }
    }

    /// <summary>A zombie (or an exiting task) needs no more killing; only its parent's wait removes it.</summary>
    private static bool IsGone(string procDir)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(procDir, "stat"));
            var close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] is 'Z' or 'X' or 'x';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // already gone
        }
    }

    [DllImport("libc", SetLastError = true)] private static extern int kill(int pid, int sig);
}
