using Tern.Core.Invocations;
using Tern.Json;

namespace Tern.Core.Executions;

/// <summary>One call, sync or async, as stored: what was asked, how far it got, what came out. Immutable: each
/// state change stores a new copy (with).</summary>
public sealed record ExecutionRecord
{
    public required string ExecutionId { get; init; }
    public required string Function { get; init; }
    /// <summary>The published version the call runs ("3", an alias resolved when the call was accepted), or null for $LATEST.</summary>
    public string? Version { get; init; }
    public required string Status { get; init; }
    /// <summary>1 for the first run; a retry of an async call keeps the ExecutionId and increments this.</summary>
    public int Attempt { get; init; } = 1;
    /// <summary>True for :enqueue (retried, dead-lettered, called back), false for :invoke.</summary>
    public bool Async { get; init; }
    /// <summary>The event, as the caller sent it.</summary>
    public RawJson Input { get; init; } = RawJson.EmptyObject;
    public RawJson? Output { get; init; }
    public InvocationError? Error { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public double? DurationMs { get; init; }
    public bool ColdStart { get; init; }
    public string? TraceId { get; init; }
    public string? TraceParent { get; init; }
    public string? CallbackUrl { get; init; }
    public string? IdempotencyKey { get; init; }
    /// <summary>When a queued (retrying) execution may run again; null means now.</summary>
    public DateTimeOffset? NotBefore { get; init; }
    /// <summary>Set when an async call failed its last attempt: it is listed under the function's dead letters.</summary>
    public bool DeadLetter { get; init; }
}
