namespace Tern.Invocation.Async;

public sealed class AsyncOptions
{
    /// <summary>First retry delay; each further retry doubles it (plus up to 50% random jitter), capped at MaxBackoff.</summary>
    public TimeSpan BaseBackoff { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Finished records (and their idempotency keys) are removed this long after they finish.</summary>
    public TimeSpan RecordTtl { get; set; } = TimeSpan.FromHours(24);
    public TimeSpan JanitorInterval { get; set; } = TimeSpan.FromMinutes(5);
}
