namespace Tern.Invocation.Admission;

/// <summary>A call refused by the global or the function's rate limit, before any record was written: a 429 with
/// Retry-After (whole seconds, at least 1) and X-Tern-Reject-Reason: rate-limit.</summary>
public sealed class RateLimitedException(string message, int retryAfterSeconds) : Exception(message)
{
    public int RetryAfterSeconds { get; } = Math.Max(1, retryAfterSeconds);
}
