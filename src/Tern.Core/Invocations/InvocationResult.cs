using System.Text.Json;

namespace Tern.Core.Invocations;

/// <summary>The outcome of one call, as the API returns it. A handler failure is a result, not an exception.</summary>
public sealed record InvocationResult
{
    public required string ExecutionId { get; init; }
    public required string Status { get; init; }
    public JsonElement? Output { get; init; }
    public InvocationError? Error { get; init; }
    public double DurationMs { get; init; }
    public bool ColdStart { get; init; }
}
