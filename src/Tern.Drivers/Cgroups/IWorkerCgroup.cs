namespace Tern.Drivers.Cgroups;

/// <summary>The cgroup(s) of one worker, whatever the hierarchy version.</summary>
public interface IWorkerCgroup
{
    /// <summary>The cgroup.procs files a launcher writes its own pid into before it execs the sandbox.</summary>
    IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>Changes the limits of a running cgroup (a template worker taking on a function).</summary>
    void SetLimits(CgroupLimits limits);

    /// <summary>True once the kernel's OOM killer has killed something in this cgroup.</summary>
    bool OutOfMemory();

    /// <summary>True once a fork or thread start in this cgroup was refused at its pids limit.</summary>
    bool ProcessLimitReached();

    /// <summary>SIGKILLs every process in the cgroup, then removes it.</summary>
    Task KillAndRemoveAsync();
}
