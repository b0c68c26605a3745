using System.Collections.Concurrent;
using System.Net;

namespace Tern.Api.Auth;

/// <summary>Slows down key guessing: each client address (an IPv6 client by its /64, which one host can fill) may fail
/// authentication <see cref="Burst"/> times, earning one more try every <see cref="RefillEvery"/>. Past that, its
/// requests get 429 before any key is looked at, whether the next key would be right or not. A 256-bit key cannot be
/// guessed anyway; this stops the flood from costing a store lookup each and from filling the logs.
/// <para>Successes cost nothing. At most <see cref="MaxTracked"/> addresses are kept; when full, addresses whose
/// allowance has refilled are forgotten first.</para></summary>
internal sealed class AuthFailureThrottle(TimeProvider time)
{
    public const int Burst = 20;
    public static readonly TimeSpan RefillEvery = TimeSpan.FromSeconds(1);
    private const int MaxTracked = 10_000;

    private readonly ConcurrentDictionary<UInt128, Allowance> _clients = new();
    private readonly double _ticksPerToken = RefillEvery.TotalSeconds * time.TimestampFrequency;

    /// <summary>False (and how long to wait) when <paramref name="client"/> has no failures left to spend.</summary>
    public bool IsAllowed(IPAddress? client, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (!_clients.TryGetValue(Key(client), out var allowance)) return true;
        lock (allowance)
        {
            allowance.Refill(time.GetTimestamp(), _ticksPerToken);
            if (allowance.Tokens >= 1) return true;
            retryAfter = RefillEvery;
            return false;
        }
    }

    /// <summary>Spends one of <paramref name="client"/>'s failures.</summary>
    public void RecordFailure(IPAddress? client)
    {
        if (_clients.Count >= MaxTracked) ForgetRefilled();
        var now = time.GetTimestamp();
        var allowance = _clients.GetOrAdd(Key(client), static (_, start) => new Allowance(start), now);
        lock (allowance)
        {
            allowance.Refill(now, _ticksPerToken);
            allowance.Tokens = Math.Max(0, allowance.Tokens - 1);
        }
    }

    private void ForgetRefilled()
    {
        var now = time.GetTimestamp();
        foreach (var (key, allowance) in _clients)
        {
            lock (allowance) allowance.Refill(now, _ticksPerToken);
            if (allowance.Tokens >= Burst) _clients.TryRemove(key, out _);
        }
        // Still full of active guessers: forget arbitrary ones rather than grow without bound.
        foreach (var key in _clients.Keys.Take(Math.Max(0, _clients.Count - MaxTracked / 2))) _clients.TryRemove(key, out _);
    }

    private static UInt128 Key(IPAddress? client)
    {
        if (client is null) return UInt128.Zero;
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        client.TryWriteBytes(bytes, out var written);
        if (written == 16) bytes[8..].Clear(); // the /64 prefix
        return new UInt128(BitConverter.ToUInt64(bytes[..8]), BitConverter.ToUInt64(bytes[8..]));
    }

    private sealed class Allowance(long start)
    {
        private long _refilledAt = start;
        public double Tokens = Burst;

        public void Refill(long now, double ticksPerToken)
        {
            var earned = (now - _refilledAt) / ticksPerToken;
            if (earned <= 0) return;
            Tokens = Math.Min(Burst, Tokens + earned);
            _refilledAt = now;
        }
    }
}
