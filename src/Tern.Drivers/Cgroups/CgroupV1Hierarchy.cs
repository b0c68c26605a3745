namespace Tern.Drivers.Cgroups;

/// <summary>cgroup v1: one directory per controller (memory, pids, cpu), each with its own copy of the parent path.</summary>
internal sealed class CgroupV1Hierarchy(string root, string parentName) : ICgroupHierarchy
{
    private static readonly string[] Controllers = ["memory", "pids", "cpu"];

    public string Description => $"cgroup v1 at {root}";

    public IWorkerCgroup Create(string workerId, CgroupLimits limits)
    {
        var memory = Dir("memory", workerId);
        var pids = Dir("pids", workerId);
        var cpu = Dir("cpu", workerId);
        var worker = new Worker(memory, pids, cpu);
        worker.SetLimits(limits);
        return worker;
    }

    public void RemoveEmptyWorkerCgroups()
    {
        foreach (var controller in Controllers)
            CgroupHierarchy.RemoveEmptyChildren(Path.Combine(root, controller, parentName));
    }

    public void RemoveParent()
    {
        foreach (var controller in Controllers)
            CgroupHierarchy.RemoveEmptyDir(Path.Combine(root, controller, parentName));
    }

    private string Dir(string controller, string workerId)
    {
        var dir = Path.Combine(root, controller, parentName, workerId);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private sealed class Worker(string memory, string pids, string cpu) : IWorkerCgroup
    {
        public IReadOnlyList<string> ProcsFiles { get; } =
            [Path.Combine(memory, "cgroup.procs"), Path.Combine(pids, "cgroup.procs"), Path.Combine(cpu, "cgroup.procs")];

        public void SetLimits(CgroupLimits limits)
        {
            var bytes = ((long)limits.MemoryMb * 1024 * 1024).ToString();
            // memsw must stay >= the memory limit at every step, so the order depends on the direction.
            var memsw = File.Exists(Path.Combine(memory, "memory.memsw.limit_in_bytes"));
            var growing = CgroupHierarchy.ReadLong(Path.Combine(memory, "memory.limit_in_bytes")) < long.Parse(bytes);
            if (memsw && growing) CgroupHierarchy.Write(memory, "memory.memsw.limit_in_bytes", bytes);
            CgroupHierarchy.Write(memory, "memory.limit_in_bytes", bytes);
            // Without a memsw limit the worker could spill into swap instead of being stopped at its limit.
            if (memsw && !growing) CgroupHierarchy.Write(memory, "memory.memsw.limit_in_bytes", bytes);
            CgroupHierarchy.Write(pids, "pids.max", limits.MaxPids.ToString());
            // Quota first when the period shrinks: the kernel refuses a quota/period pair it cannot represent.
            CgroupHierarchy.Write(cpu, "cpu.cfs_quota_us", limits.CpuQuotaUs.ToString());
            CgroupHierarchy.Write(cpu, "cpu.cfs_period_us", CgroupLimits.CpuPeriodUs.ToString());
        }

        public bool ProcessLimitReached() => CgroupHierarchy.ReadCounter(Path.Combine(pids, "pids.events"), "max") > 0;

        public bool OutOfMemory() =>
            CgroupHierarchy.ReadCounter(Path.Combine(memory, "memory.oom_control"), "oom_kill") > 0;

        public async Task KillAndRemoveAsync()
        {
            await CgroupHierarchy.KillAllAsync(ProcsFiles).ConfigureAwait(false);
            foreach (var dir in new[] { memory, pids, cpu }) await CgroupHierarchy.RemoveDirAsync(dir).ConfigureAwait(false);
        }
    }
}
