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
}
