using System.ComponentModel.DataAnnotations;
using Tern.Core.Settings;

namespace Tern.Invocation.Async;

/// <summary>Async calls and execution records (section "async").</summary>
public sealed class AsyncOptions
{
    public const string Section = "async";

    [Setting("First retry delay of a failed async call; each further retry doubles it (plus up to 50% jitter), up to maxBackoff")]
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan BaseBackoff { get; set; } = TimeSpan.FromSeconds(1);

    [Setting("Longest delay between two attempts of an async call")]
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    [Setting("Finished records (and their idempotency keys and logs) are removed this long after they finish")]
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan RecordTtl { get; set; } = TimeSpan.FromHours(24);

    [Setting("How often expired records are removed")]
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan JanitorInterval { get; set; } = TimeSpan.FromMinutes(5);

    [Setting("Daemons sharing a Postgres store: how long a claimed async call stays this daemon's without renewal (renewed every third of it); a dead daemon's calls are claimed again after it")]
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    [Setting("Daemons sharing a Postgres store: how often an idle daemon looks for calls accepted elsewhere, retries falling due and expired leases")]
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan ClaimInterval { get; set; } = TimeSpan.FromSeconds(1);
}
