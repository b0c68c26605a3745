namespace Tern.Drivers.Cgroups;

/// <summary>cgroup v2: one unified tree; controllers must be enabled in each parent's subtree_control.</summary>
internal sealed class CgroupV2Hierarchy(string root, string parentName) : ICgroupHierarchy
{
    private readonly Lazy<string> _parent = new(() =>
    {
        // Each level down to the parent (tern, then this daemon's own) must hand the controllers on to its children.
        var dir = root;
        CgroupHierarchy.Write(dir, "cgroup.subtree_control", "+memory +pids +cpu");
        foreach (var segment in parentName.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            dir = Path.Combine(dir, segment);
            Directory.CreateDirectory(dir);
            CgroupHierarchy.Write(dir, "cgroup.subtree_control", "+memory +pids +cpu");
        }
        return dir;
    });

    public string Description => $"cgroup v2 at {root}";

    public void RemoveEmptyWorkerCgroups() => CgroupHierarchy.RemoveEmptyChildren(Path.Combine(root, parentName));

    public void RemoveParent() => CgroupHierarchy.RemoveEmptyDir(Path.Combine(root, parentName));

    public IWorkerCgroup Create(string workerId, CgroupLimits limits)
    {
        var dir = Path.Combine(_parent.Value, workerId);
        Directory.CreateDirectory(dir);
        var worker = new Worker(dir);
        worker.SetLimits(limits);
        return worker;
    }

    private sealed class Worker(string dir) : IWorkerCgroup
    {
        public IReadOnlyList<string> ProcsFiles { get; } = [Path.Combine(dir, "cgroup.procs")];

        public void SetLimits(CgroupLimits limits)
        {
            CgroupHierarchy.Write(dir, "memory.max", ((long)limits.MemoryMb * 1024 * 1024).ToString());
            if (File.Exists(Path.Combine(dir, "memory.swap.max"))) CgroupHierarchy.Write(dir, "memory.swap.max", "0");
            CgroupHierarchy.Write(dir, "pids.max", limits.MaxPids.ToString());
            CgroupHierarchy.Write(dir, "cpu.max", $"{limits.CpuQuotaUs} {CgroupLimits.CpuPeriodUs}");
        }

        public bool OutOfMemory() => CgroupHierarchy.ReadCounter(Path.Combine(dir, "memory.events"), "oom_kill") > 0;

        public bool ProcessLimitReached() => CgroupHierarchy.ReadCounter(Path.Combine(dir, "pids.events"), "max") > 0;

        public async Task KillAndRemoveAsync()
        {
            var killFile = Path.Combine(dir, "cgroup.kill");
            if (File.Exists(killFile)) CgroupHierarchy.Write(dir, "cgroup.kill", "1");
            await CgroupHierarchy.KillAllAsync(ProcsFiles).ConfigureAwait(false);
            await CgroupHierarchy.RemoveDirAsync(dir).ConfigureAwait(false);
        }
    }
}
