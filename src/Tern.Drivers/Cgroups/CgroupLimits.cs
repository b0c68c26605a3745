namespace Tern.Drivers.Cgroups;

public sealed record CgroupLimits(int MemoryMb, int Vcpus, int MaxPids)
{
    /// <summary>The CFS period: the kernel's default. A 10 ms period was measured (bench/) to cut the warm p99 a little
    /// but to throttle an interpreter's start-up burst, adding up to 30 ms to cold starts.</summary>
    public const int CpuPeriodUs = 100_000;

    public int CpuQuotaUs => Vcpus * CpuPeriodUs;

    public static CgroupLimits Of(WorkerLimits limits) => new(limits.MemoryMb, limits.Vcpus, limits.MaxPids);
}
