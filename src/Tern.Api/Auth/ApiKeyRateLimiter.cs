using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Auth;

/// <summary>One token bucket per API key that has rateLimitPerSecond: like the admission buckets (RateLimits), it
/// holds one second's worth of requests (the burst) and refills continuously. Counts every authenticated request.</summary>
internal sealed class ApiKeyRateLimiter : IDisposable
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>False (with a Retry-After hint in seconds) when the key has used up its rate.</summary>
    public bool TryAcquire(ApiKey key, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        if (key.RateLimitPerSecond is not int rate || rate <= 0) return true;
        var bucket = _buckets.GetOrAdd(key.Id, static (_, r) => new Bucket(r), rate);
        if (bucket.Rate != rate)
        {
            // Not expected today (a key's rate cannot be changed), but never use a stale limit.
            Forget(key.Id);
            bucket = _buckets.GetOrAdd(key.Id, static (_, r) => new Bucket(r), rate);
        }
        try
        {
            using var lease = bucket.Limiter.AttemptAcquire(1);
            if (lease.IsAcquired) return true;
            retryAfterSeconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true; // the key was revoked while we took from its bucket; its next request is refused anyway
        }
    }

    public void Forget(string id)
    {
        if (_buckets.TryRemove(id, out var bucket)) bucket.Limiter.Dispose();
    }

    public void Dispose()
    {
        foreach (var id in _buckets.Keys) Forget(id);
    }

    private sealed class Bucket
    {
        public Bucket(int rate)
        {
            Rate = rate;
            var perPeriod = Math.Max(1, rate / 10);
            Limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = rate,
                TokensPerPeriod = perPeriod,
                ReplenishmentPeriod = TimeSpan.FromTicks(TimeSpan.TicksPerSecond * perPeriod / rate),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        }

        public int Rate { get; }
        public TokenBucketRateLimiter Limiter { get; }
    }
}
