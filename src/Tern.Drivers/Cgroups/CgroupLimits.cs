namespace Tern.Drivers.Cgroups;

public sealed record CgroupLimits(int MemoryMb, int Vcpus, int MaxPids)
{
    /// <summary>The CFS period. 10 ms rather than the kernel's 100 ms: a worker that uses up its quota is paused for
    /// the rest of the period, so a short period keeps that pause (and the tail latency it causes) short.</summary>
    public const int CpuPeriodUs = 10_000;

    public int CpuQuotaUs => Vcpus * CpuPeriodUs;
}
