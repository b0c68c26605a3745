using System.Text.Json.Serialization;
using Tern.Json;

namespace Tern.Core.Invocations;

/// <summary>The outcome of one call, as the API returns it. A handler failure is a result, not an exception.</summary>
public sealed record InvocationResult
{
    public required string ExecutionId { get; init; }
    public required string Status { get; init; }
    public RawJson? Output { get; init; }
    public InvocationError? Error { get; init; }
    public double DurationMs { get; init; }
    public bool ColdStart { get; init; }
    /// <summary>Which published version ran ("3"), or "$LATEST" for the current definition.</summary>
    public string? Version { get; init; }

    /// <summary>The end of what the handler wrote to stdout during this call (process mode only; at most 64 KB). Kept
    /// for the execution's logs, never part of the response body.</summary>
    [JsonIgnore]
    public string? StdoutTail { get; init; }

    /// <summary>The end of what the handler wrote to stderr during this call (at most 64 KB), for the logs; not in the body.</summary>
    [JsonIgnore]
    public string? StderrTail { get; init; }
}
