using System.ComponentModel.DataAnnotations;
using Tern.Core.Functions;
using Tern.Core.Settings;

namespace Tern.Invocation.Admission;

/// <summary>What the front door checks before a call gets a record: the global rate limit and the idempotency window.</summary>
public sealed class AdmissionOptions
{
    public const string Section = "admission";
    public const string RateLimitVariable = "TERN_RATE_LIMIT";
    /// <summary>No global rate limit unless the operator sets one. A machine is protected by what limits work, as on
    /// Lambda, OpenFaaS and Knative: each function's concurrency and queueSize (calls beyond them are turned away with
    /// 429 at once), and each API key's own rate limit. A platform-wide rate below what the machine can serve only
    /// turned away calls it could run (the old default of 1,000/s capped a 2-core machine at a fraction of its rate).</summary>
    public const int DefaultGlobalRateLimitPerSecond = 0;

    /// <summary>Changed at run time through PUT /v1/limits.</summary>
    [Setting("Calls per second admitted across all functions (burst: one second's worth); 0: unlimited", Environment = RateLimitVariable)]
    [Range(0, FunctionLimits.MaxRateLimitPerSecond)]
    public int GlobalRateLimitPerSecond { get; set; } = DefaultGlobalRateLimitPerSecond;

    [Setting("How long an Idempotency-Key keeps answering with the call it first started (from its creation)")]
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);

    [Setting("A replay of a call that is still running polls its record this often")]
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan ReplayPollInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    [Setting("A replay waits for a running call at most the function's timeoutMs plus this, then answers 409")]
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ReplayWaitGrace { get; set; } = TimeSpan.FromSeconds(5);

}
