namespace Tern.Bench.Soak;

/// <summary>What the daemon holds at one moment, read from /proc and the cgroup file system.</summary>
public sealed record DaemonResources(double RssMb, int Fds, int Threads, int Sandboxes, int WorkerDirs, int Cgroups, double CpuSeconds)
{
    /// <summary>Where worker cgroups live (tern/{daemon id}/{worker}), under either cgroup version; every directory below
    /// counts, the daemon's own parent too, so a parent left after a stop shows up as a leftover.</summary>
    private static readonly string[] CgroupRoots = ["/sys/fs/cgroup/pids/tern", "/sys/fs/cgroup/tern", "/sys/fs/cgroup/unified/tern"];

    public static DaemonResources Of(int pid, string dataDir) => new(
        Rss.OfPid(pid),
        CountEntries($"/proc/{pid}/fd"),
        ThreadCount(pid),
        SandboxesOf(pid),
        CountWorkerDirs(dataDir),
        CountCgroups(),
        CpuSecondsOf(pid));

    /// <summary>Bubblewrap processes the daemon started (its direct children named bwrap).</summary>
    public static int SandboxesOf(int pid)
    {
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                var open = stat.IndexOf('(');
                if (open < 0 || close < 0 || stat[(open + 1)..close] != "bwrap") continue;
                var parent = int.Parse(stat[(close + 2)..].Split(' ')[1]);
                if (parent == pid) count++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        }
        return count;
    }

    /// <summary>Bubblewrap processes anywhere whose command line names <paramref name="dataDir"/>: a sandbox left by a
    /// daemon that has stopped (its parent would be gone, so only the path ties it to that daemon).</summary>
    public static int SandboxesNaming(string dataDir)
    {
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.StartsWith("/usr/bin/bwrap", StringComparison.Ordinal) || cmdline.StartsWith("bwrap", StringComparison.Ordinal))
                    if (cmdline.Contains(dataDir, StringComparison.Ordinal)) count++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return count;
    }

    public static int CountCgroups() =>
        CgroupRoots.Where(Directory.Exists).Sum(root => Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).Count());

    /// <summary>Worker directories (and spare workers' code slots) under the data dir's state dir; the files the driver
    /// keeps there for all its workers (seccomp.bpf) are not workers.</summary>
    public static int CountWorkerDirs(string dataDir)
    {
        try { return Directory.EnumerateDirectories(Path.Combine(dataDir, "w")).Count(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
    }

    private static int CountEntries(string dir)
    {
        try { return Directory.EnumerateFileSystemEntries(dir).Count(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
    }

    private static int ThreadCount(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("Threads:", StringComparison.Ordinal));
            return line is null ? 0 : int.Parse(line["Threads:".Length..].Trim());
        }
        catch (IOException) { return 0; }
    }

    private static double CpuSecondsOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0; // utime, stime in clock ticks (USER_HZ = 100)
        }
        catch (IOException) { return 0; }
    }
}
