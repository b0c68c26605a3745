using Tern.Core.Functions;

namespace Tern.Invocation.Admission;

/// <summary>What the front door checks before a call gets a record: the global rate limit and the idempotency window.</summary>
public sealed class AdmissionOptions
{
    public const string RateLimitVariable = "TERN_RATE_LIMIT";
    public const int DefaultGlobalRateLimitPerSecond = 1000;

    /// <summary>Calls per second admitted across all functions (burst = one second's worth); 0 means unlimited.
    /// Env TERN_RATE_LIMIT, default 1000. Changed at run time through PUT /v1/limits.</summary>
    public int GlobalRateLimitPerSecond { get; set; } = FromEnvironment();

    /// <summary>How long an Idempotency-Key keeps answering with the call it first started (counted from its creation).</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A replay of a call that is still running polls its record this often...</summary>
    public TimeSpan ReplayPollInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>...for at most the function's timeoutMs plus this, then answers 409.</summary>
    public TimeSpan ReplayWaitGrace { get; set; } = TimeSpan.FromSeconds(5);

    private static int FromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable(RateLimitVariable), out var rate) && rate is >= 0 and <= FunctionLimits.MaxRateLimitPerSecond
            ? rate : DefaultGlobalRateLimitPerSecond;
}
