namespace Tern.Invocation.Async;

/// <summary>Exponential backoff with jitter: base * 2^(attempt-1), plus up to half of that at random, capped.</summary>
internal static class RetryBackoff
{
    public static TimeSpan Delay(int failedAttempt, AsyncOptions options, Random random)
    {
        var exponential = options.BaseBackoff.TotalMilliseconds * Math.Pow(2, Math.Max(0, failedAttempt - 1));
        var capped = Math.Min(exponential, options.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped + random.NextDouble() * capped / 2);
    }
}
