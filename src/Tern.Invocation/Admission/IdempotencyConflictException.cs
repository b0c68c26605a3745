namespace Tern.Invocation.Admission;

/// <summary>A sync replay of an Idempotency-Key whose call did not finish within the function's timeout plus grace:
/// a 409 that names the execution, so the caller can poll it instead.</summary>
public sealed class IdempotencyConflictException(string executionId, string message) : Exception(message)
{
    public string ExecutionId { get; } = executionId;
}
