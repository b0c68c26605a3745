using Tern.Core.Code;
using Tern.Core.Functions;

namespace Tern.Drivers;

/// <summary>What a worker needs: its code (by reference) and its limits.</summary>
public sealed record WorkerSpec
{
    public required string WorkerId { get; init; }
    public required string FunctionName { get; init; }
    /// <summary>The code to put at /code; null starts a template worker whose code comes later (IWorker.AssignAsync).</summary>
    public required CodeRef? Code { get; init; }
    public WorkerLimits Limits { get; init; } = new();
    /// <summary>The function's runtime (python, node...): a driver whose guest image depends on it (microvm) picks the
    /// image by it. Null from callers that do not say; such a driver then assumes python.</summary>
    public string? Runtime { get; init; }
    /// <summary>none by default: a worker has only its own loopback. Egress (with its allow list) is set when the worker
    /// starts and never changes; a template (spare) worker is always none.</summary>
    public FunctionNetwork Network { get; init; } = FunctionNetwork.None;
    /// <summary>How a driver that offers several ways to run a function runs this one (kubernetes: "warm" or "job",
    /// FunctionKubernetes); null: the driver's default.</summary>
    public string? Style { get; init; }
}
