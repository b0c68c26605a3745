using Tern.Core.Invocations;
using Tern.Json;

namespace Tern.Core.Executions;

/// <summary>What GET /v1/executions[/{id}] and callbacks show of a record (no input, no internal scheduling fields).
/// <see cref="Version"/> is the published version the call ran ("3"), or "$LATEST".</summary>
public sealed record ExecutionView(
    string ExecutionId, string Function, string Status, int Attempt, RawJson? Output, InvocationError? Error,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, double? DurationMs, bool ColdStart,
    string? TraceId, bool DeadLetter, string Version)
{
    public static ExecutionView From(ExecutionRecord r) => new(
        r.ExecutionId, r.Function, r.Status, r.Attempt, r.Output, r.Error, r.CreatedAt, r.StartedAt, r.FinishedAt,
        r.DurationMs, r.ColdStart, r.TraceId, r.DeadLetter, r.Version ?? Functions.Qualifiers.Latest);
}
