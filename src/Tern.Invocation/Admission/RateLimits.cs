using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Tern.Core.Functions;

namespace Tern.Invocation.Admission;

/// <summary>Admission rate limits: one global token bucket (AdmissionOptions.GlobalRateLimitPerSecond, adjustable at
/// run time) and one per function that sets rateLimitPerSecond. Each bucket holds one second's worth of tokens (the
/// burst) and refills continuously at its rate. Only new calls take tokens: retries and recovered calls do not come
/// through here.
/// <para>A limit change swaps the bucket atomically (the new one starts full); a call racing the swap retries on the
/// new bucket. A function's bucket is rebuilt on its next call after its rateLimitPerSecond changes.</para></summary>
public sealed class RateLimits : IFunctionObserver, IDisposable
{
    private readonly ConcurrentDictionary<string, Bucket> _functions = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private Bucket _global;

    public RateLimits(IOptions<AdmissionOptions> options)
    {
        var rate = options.Value.GlobalRateLimitPerSecond;
        if (!IsValidRate(rate))
            throw new ArgumentOutOfRangeException(nameof(options), rate, $"the global rate limit must be between 0 and {FunctionLimits.MaxRateLimitPerSecond}");
        _global = Bucket.Create(rate);
    }

    /// <summary>The global limit in calls per second; 0 = unlimited.</summary>
    public int GlobalPerSecond => Volatile.Read(ref _global).Rate;

    public static bool IsValidRate(int perSecond) => perSecond is >= 0 and <= FunctionLimits.MaxRateLimitPerSecond;

    /// <summary>Replaces the global limit at once (0 = unlimited). The new bucket starts full.</summary>
    public void SetGlobal(int perSecond)
    {
        if (!IsValidRate(perSecond))
            throw new ArgumentOutOfRangeException(nameof(perSecond), perSecond, $"must be between 0 and {FunctionLimits.MaxRateLimitPerSecond}");
        lock (_lock)
        {
            if (_global.Rate == perSecond) return;
            var old = Interlocked.Exchange(ref _global, Bucket.Create(perSecond));
            old.Dispose();
        }
    }

    /// <summary>Takes one token from the function's bucket (if it has a limit), then one from the global bucket.
    /// Throws RateLimitedException when either is empty. The narrower limit goes first, so calls a function's own
    /// limit refuses do not use up the budget every function shares.</summary>
    public void Acquire(FunctionDefinition function)
    {
        if (function.RateLimitPerSecond is int rate and > 0)
            Take((Limits: this, Name: function.Name, Rate: rate), static s => s.Limits.ForFunction(s.Name, s.Rate),
                static s => $"function '{s.Name}' is limited to {s.Rate} calls per second (rateLimitPerSecond)");
        else if (_functions.ContainsKey(function.Name))
            Drop(function.Name);
        Take(this, static s => Volatile.Read(ref s._global), static s => $"the daemon is limited to {s.GlobalPerSecond} calls per second (global rate limit)");
    }

    public void OnFunctionChanged(string name, FunctionDefinition? current)
    {
        // The bucket is rebuilt lazily on the next call; only forget it when it can no longer be right.
        if (current?.RateLimitPerSecond is not int rate || !_functions.TryGetValue(name, out var bucket) || bucket.Rate != rate)
            Drop(name);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _global.Dispose();
            foreach (var bucket in _functions.Values) bucket.Dispose();
            _functions.Clear();
        }
    }

    /// <summary>Takes a token from the bucket <paramref name="current"/> gives (again, if it was swapped meanwhile). The
    /// reason is only worded for a refusal: an admitted call allocates nothing here.</summary>
    private static void Take<TState>(TState state, Func<TState, Bucket> current, Func<TState, string> reason)
    {
        while (true)
        {
            var bucket = current(state);
            if (bucket.Limiter is null) return;
            RateLimitLease lease;
            try
            {
                lease = bucket.Limiter.AttemptAcquire(1);
            }
            catch (ObjectDisposedException) when (!ReferenceEquals(bucket, current(state)))
            {
                continue; // swapped for a new limit while we were taking from it: take from the new one
            }
            using (lease)
            {
                if (lease.IsAcquired) return;
                var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? (int)Math.Ceiling(wait.TotalSeconds) : 1;
                throw new RateLimitedException($"rate limit exceeded: {reason(state)}; retry later", retryAfter);
            }
        }
    }

    private Bucket ForFunction(string name, int rate)
    {
        if (_functions.TryGetValue(name, out var bucket) && bucket.Rate == rate) return bucket;
        lock (_lock)
        {
            if (_functions.TryGetValue(name, out bucket) && bucket.Rate == rate) return bucket;
            var fresh = Bucket.Create(rate);
            _functions[name] = fresh;
            bucket?.Dispose();
            return fresh;
        }
    }

    private void Drop(string name)
    {
        lock (_lock)
            if (_functions.TryRemove(name, out var bucket)) bucket.Dispose();
    }

    /// <summary>A rate and its limiter (null when the rate is 0, unlimited).</summary>
    private sealed class Bucket(int rate, TokenBucketRateLimiter? limiter) : IDisposable
    {
        public int Rate { get; } = rate;
        public TokenBucketRateLimiter? Limiter { get; } = limiter;

        /// <summary>Refills in steps of about a tenth of a second (at most 10 timer ticks a second, however high the
        /// rate); slow rates get one token per step of 1/rate seconds.</summary>
        public static Bucket Create(int rate)
        {
            if (rate == 0) return new Bucket(0, null);
            var perPeriod = Math.Max(1, rate / 10);
            return new Bucket(rate, new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = rate,
                TokensPerPeriod = perPeriod,
                ReplenishmentPeriod = TimeSpan.FromTicks(TimeSpan.TicksPerSecond * perPeriod / rate),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
        }

        public void Dispose() => Limiter?.Dispose();
    }
}
