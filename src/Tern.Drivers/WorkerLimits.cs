namespace Tern.Drivers;

/// <summary>What a worker may use, as one value: every driver enforces all of it (cgroups for the sandbox, VM size for
/// a microVM, resource limits for a pod).</summary>
/// <param name="MaxPids">Processes and threads a worker may hold at once, the agent's own included (fork bombs stop here).</param>
public sealed record WorkerLimits(int MemoryMb = 128, int Vcpus = 1, int MaxPids = WorkerLimits.DefaultMaxPids)
{
    public const int DefaultMaxPids = 256;
}
