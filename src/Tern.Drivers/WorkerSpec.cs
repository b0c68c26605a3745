using Tern.Core.Code;

namespace Tern.Drivers;

/// <summary>What a worker needs: its code (by reference) and its limits.</summary>
public sealed record WorkerSpec
{
    public required string WorkerId { get; init; }
    public required string FunctionName { get; init; }
    /// <summary>The code to put at /code; null starts a template worker whose code comes later (IWorker.AssignAsync).</summary>
    public required CodeRef? Code { get; init; }
    public WorkerLimits Limits { get; init; } = new();
    /// <summary>Off by default: a worker has only its own loopback.</summary>
    public bool Network { get; init; }
}
