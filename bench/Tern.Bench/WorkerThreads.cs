namespace Tern.Bench;

/// <summary>CPU time and host context switches of every thread in one worker's cgroup (the cpu hierarchy's `tasks`: for
/// the sandbox the agent and the handler, for gVisor also its kernel, file server and stub threads), from
/// /proc/TID/schedstat and /proc/TID/status. Sampled around a run of warm calls, the differences per call say how many
/// host thread switches a call costs: on this paravirtual VM each is dear.</summary>
internal static class WorkerThreads
{
    public sealed record Sample(double CpuMs, long Switches);

    /// <summary>The worker's cpu cgroup, from the driver's parent (relative to the hierarchy's root) and the worker id.</summary>
    public static string CgroupDir(string parent, string workerId) =>
        Directory.Exists("/sys/fs/cgroup/cpu") ? $"/sys/fs/cgroup/cpu/{parent}/{workerId}" : $"/sys/fs/cgroup/{parent}/{workerId}";

    public static Sample Take(string cgroupDir)
    {
        double cpuNs = 0;
        long switches = 0;
        var tasks = Path.Combine(cgroupDir, "tasks");
        if (!File.Exists(tasks)) tasks = Path.Combine(cgroupDir, "cgroup.threads"); // cgroup v2
        foreach (var line in File.ReadAllLines(tasks))
        {
            try
            {
                cpuNs += double.Parse(File.ReadAllText($"/proc/{line}/schedstat").Split(' ')[0]);
                foreach (var status in File.ReadLines($"/proc/{line}/status"))
                    if (status.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || status.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        switches += long.Parse(status[(status.IndexOf(':') + 1)..].Trim());
            }
            catch (Exception e) when (e is IOException or FormatException) { } // a thread that ended meanwhile
        }
        return new(cpuNs / 1e6, switches);
    }
}
