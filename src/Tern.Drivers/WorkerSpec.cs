namespace Tern.Drivers;

/// <summary>What a worker needs: its code and its limits. Every limit is explicit here.</summary>
public sealed record WorkerSpec
{
    public required string WorkerId { get; init; }
    public required string FunctionName { get; init; }
    /// <summary>The code to mount at /code; null starts a template worker whose code comes later (IWorker.AssignAsync).</summary>
    public required CodeMount? Code { get; init; }
    public int MemoryMb { get; init; } = 128;
    public int Vcpus { get; init; } = 1;
    public int MaxPids { get; init; } = WorkerSpecDefaults.MaxPids;
    /// <summary>Off by default: a worker has only its own loopback.</summary>
    public bool Network { get; init; }
}

/// <summary>The function's code on the host: a directory (an unpacked zip) or one file mounted as /code/FileName.</summary>
public sealed record CodeMount(string HostPath, string? FileName)
{
    public bool IsSingleFile => FileName is not null;
}

public static class WorkerSpecDefaults
{
    /// <summary>Processes and threads a worker may hold at once, the agent's own included (fork bombs stop here).</summary>
    public const int MaxPids = 256;
}
