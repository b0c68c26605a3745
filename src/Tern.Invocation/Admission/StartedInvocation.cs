using Tern.Core.Executions;
using Tern.Core.Invocations;

namespace Tern.Invocation.Admission;

/// <summary>A sync call that has been admitted: its record exists (or, for a replay, already existed) and Result
/// completes when it finishes. A caller may stop waiting for Result; the run goes on and its record is finished.</summary>
/// <param name="Replayed">True when an Idempotency-Key matched an earlier call: nothing new runs.</param>
public readonly record struct StartedInvocation(string ExecutionId, Task<InvocationResult> Result, bool Replayed);

/// <summary>An admitted async call: the committed (new or replayed) record.</summary>
public sealed record EnqueuedCall(ExecutionRecord Record, bool Replayed);
