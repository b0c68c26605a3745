using System.Runtime.InteropServices;

namespace Tern.Bench;

/// <summary>CPU time per process, from /proc/PID/stat (utime + stime), and of this process's reaped children
/// (getrusage: the load generator once it has exited). Sampled before and after a run, the differences divided by the
/// calls give CPU per call by process: far steadier on a shared machine than requests per second.</summary>
public static class ProcessCpu
{
    private static readonly double MsPerTick = 1000.0 / sysconf(2 /* _SC_CLK_TCK */);

    public sealed record Proc(int Pid, int Parent, string Name, long Ticks);

    public sealed record Sample(IReadOnlyDictionary<int, Proc> Procs, double ChildrenMs, double SelfMs);

    public static Sample Take()
    {
        var procs = new Dictionary<int, Proc>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                var name = stat[(stat.IndexOf('(') + 1)..close];
                var fields = stat[(close + 2)..].Split(' ');
                procs[pid] = new Proc(pid, int.Parse(fields[1]), name, long.Parse(fields[11]) + long.Parse(fields[12]));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        }
        getrusage(-1 /* RUSAGE_CHILDREN */, out var children);
        getrusage(0 /* RUSAGE_SELF */, out var self);
        return new Sample(procs, children.Ms, self.Ms);
    }

    /// <summary>CPU ms per call of the daemon, its agents and their handlers, the load generator (a child of this
    /// process that exited in between) and this process itself (when it was the client).</summary>
    public static CpuPerCall PerCall(Sample before, Sample after, int daemonPid, long calls) => PerCall(before, after, daemonPid, calls, countRoot: true);

    /// <summary>The workers this process started itself and drove as the client (no daemon in between).</summary>
    public static CpuPerCall PerCallDirect(Sample before, Sample after, long calls) => PerCall(before, after, Environment.ProcessId, calls, countRoot: false);

    private static CpuPerCall PerCall(Sample before, Sample after, int daemonPid, long calls, bool countRoot)
    {
        double daemon = 0, agents = 0, handlers = 0;
        foreach (var p in after.Procs.Values)
        {
            if (!before.Procs.TryGetValue(p.Pid, out var b) || b.Name != p.Name) continue; // started during the run: not steady state
            var ms = (p.Ticks - b.Ticks) * MsPerTick;
            if (p.Pid == daemonPid) daemon += countRoot ? ms : 0;
            else if (p.Name == "tern-agent" && Descends(after, p.Pid, daemonPid)) agents += ms;
            else if (AgentAncestor(after, p.Pid) is not null) handlers += ms;
        }
        var n = Math.Max(1, calls);
        return new CpuPerCall(daemon / n, agents / n, handlers / n, (after.ChildrenMs - before.ChildrenMs) / n, (after.SelfMs - before.SelfMs) / n);
    }

    private static bool Descends(Sample s, int pid, int ancestor)
    {
        for (var i = 0; i < 64 && s.Procs.TryGetValue(pid, out var p); i++)
        {
            if (p.Parent == ancestor) return true;
            pid = p.Parent;
        }
        return false;
    }

    private static int? AgentAncestor(Sample s, int pid)
    {
        for (var i = 0; i < 64 && s.Procs.TryGetValue(pid, out var p); i++)
        {
            if (!s.Procs.TryGetValue(p.Parent, out var parent)) return null;
            if (parent.Name == "tern-agent") return parent.Pid;
            pid = parent.Pid;
        }
        return null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UtimeSec, UtimeUsec, StimeSec, StimeUsec;
        public long F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13, F14;
        public readonly double Ms => (UtimeSec + StimeSec) * 1000.0 + (UtimeUsec + StimeUsec) / 1000.0;
    }

    [DllImport("libc")] private static extern int getrusage(int who, out RUsage usage);
    [DllImport("libc")] private static extern long sysconf(int name);
}

/// <summary>CPU milliseconds per call by process group. Client is this process (direct runs); LoadGenerator is wrk.</summary>
public sealed record CpuPerCall(double Daemon, double Agents, double Handlers, double LoadGenerator, double Client)
{
    public double Total => Daemon + Agents + Handlers + LoadGenerator + Client;
}
