namespace Tern.Bench;

/// <summary>One measured warm-call run: what the client saw, CPU per call by process, and the daemon's managed
/// allocations per call (null where there is no daemon).</summary>
public sealed record WarmRun(string Scenario, int Connections, LatencyStats Stats, CpuPerCall Cpu, double? AllocatedBytesPerCall = null)
{
    public double P99OverP50 => Stats.P99Ms / Stats.P50Ms;
}
