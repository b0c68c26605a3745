using System.Diagnostics;

namespace Tern.Bench.Soak;

/// <summary>Drives the mix against a daemon: closed-loop (as fast as <see cref="Connections"/> clients go, to find the
/// peak) or open-loop at a fixed rate (the soak). Counts and latencies go into the current <see cref="SoakInterval"/>,
/// which the sampler swaps every few seconds.</summary>
public sealed class SoakLoad(HttpClient client)
{
    public const int Connections = 32;
    private long _next;
    private SoakInterval _interval = new();

    /// <summary>The counts since the last call, and a fresh interval for what follows.</summary>
    public SoakInterval TakeInterval() => Interlocked.Exchange(ref _interval, new SoakInterval());

    /// <summary>Calls per second the daemon sustains with <see cref="Connections"/> clients and no pause between calls.</summary>
    public async Task<double> PeakAsync(TimeSpan duration)
    {
        TakeInterval();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(duration);
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
        {
            while (!stop.IsCancellationRequested) await CallAsync(Interlocked.Increment(ref _next));
        }));
        return TakeInterval().Calls / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Calls at <paramref name="perSecond"/> for <paramref name="duration"/>: call k is due at k/rate, whatever
    /// the answers take (up to <see cref="Connections"/> outstanding; a late client sends at once to catch up).</summary>
    public async Task RunAtAsync(double perSecond, TimeSpan duration, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        long issued = 0;
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
        {
            while (!ct.IsCancellationRequested)
            {
                var k = Interlocked.Increment(ref issued);
                var due = TimeSpan.FromSeconds(k / perSecond);
                if (due > duration) return;
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ContinueWith(_ => { });
                if (ct.IsCancellationRequested) return;
                await CallAsync(Interlocked.Increment(ref _next));
            }
        }));
    }

    private async Task CallAsync(long n)
    {
        var kind = SoakMix.For(n);
        var started = Stopwatch.GetTimestamp();
        int status;
        try
        {
            using var request = SoakMix.Request(kind, n);
            using var response = await client.SendAsync(request);
            await response.Content.LoadIntoBufferAsync();
            status = (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            status = 0;
        }
        _interval.Record(kind, status, Stopwatch.GetElapsedTime(started));
    }
}
