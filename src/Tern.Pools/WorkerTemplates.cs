using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Drivers;

namespace Tern.Pools;

/// <summary>Spare workers started before any function needs them: a sandbox with its agent connected and an empty
/// /code. A cold start takes one, gives it the function's code and limits, and skips the sandbox boot; the spare is
/// replaced in the background. One small set per driver that supports it (PoolOptions.TemplatesPerDriver): the
/// default driver's from daemon start, any other's from its first cold start.
/// <para>When spares cannot start (a component missing, the machine out of something), starting is retried with
/// exponential backoff and jitter, one spare at a time, and the failure is logged once, not per attempt; the
/// recovery is logged once too. Readiness reports the cause (the drivers' health checks).</para></summary>
/// <param name="random">The backoff's jitter; tests pass a fixed one. Random.Shared by default.</param>
internal sealed partial class WorkerTemplates(
    DriverRegistry drivers, IOptions<PoolOptions> options, TimeProvider time, ILogger<WorkerTemplates> logger, Random? random = null)
{
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, SpareSet> _sets = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closing = new();
    private readonly Random _random = random ?? Random.Shared;
    private long _attempts;

    public int SpareCount(string driver) => _sets.TryGetValue(driver, out var set) ? set.Ready.Count : 0;

    /// <summary>Spare starts attempted so far (successful or not), for tests of the backoff.</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Fills the default driver's spares (daemon start). Never blocks: starts run in the background. Another
    /// driver gets spares from its first cold start on: a gVisor spare costs about a second of CPU and 36 MB, which a
    /// daemon that never runs a gVisor function should not pay.</summary>
    public void Start()
    {
        if (drivers.Names.Contains(drivers.Default) && drivers.Get(drivers.Default).SupportsTemplates) Refill(Set(drivers.Default));
    }

    /// <summary>A live spare worker of this driver, or null when none is ready (the caller then starts a worker itself).</summary>
    public async Task<IWorker?> TryTakeAsync(string driver)
    {
        if (options.Value.TemplatesPerDriver <= 0 || _closing.IsCancellationRequested) return null;
        if (!_sets.TryGetValue(driver, out var set))
        {
            if (!drivers.Names.Contains(driver) || !drivers.Get(driver).SupportsTemplates) return null;
            set = Set(driver); // the first cold start on this driver: its spares start now, for the next ones
        }
        try
        {
            while (set.Ready.TryDequeue(out var spare))
            {
                if (!spare.Exited.IsCompleted) return spare;
                await spare.DisposeAsync().ConfigureAwait(false);
            }
            return null;
        }
        finally
        {
            Refill(set);
        }
    }

    public async Task CloseAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        foreach (var set in _sets.Values)
            while (set.Ready.TryDequeue(out var spare)) await spare.DisposeAsync().ConfigureAwait(false);
    }

    private SpareSet Set(string driver) => _sets.GetOrAdd(driver, static name => new SpareSet(name));

    /// <summary>Starts spares up to the target; while they fail, at most one at a time and not before the backoff ends.</summary>
    private void Refill(SpareSet set)
    {
        int start;
        lock (set.Lock)
        {
            if (_closing.IsCancellationRequested) return;
            if (set.Failures > 0 && time.GetUtcNow() < set.RetryAt)
            {
                ScheduleRetry(set);
                return;
            }
            start = Math.Max(0, options.Value.TemplatesPerDriver - set.Ready.Count - set.Starting);
            if (set.Failures > 0) start = Math.Min(start, 1 - set.Starting); // probing: one at a time
            if (start <= 0) return;
            set.Starting += start;
        }
        for (var i = 0; i < start; i++) _ = StartSpareAsync(set);
    }

    private async Task StartSpareAsync(SpareSet set)
    {
        await Task.Yield(); // a driver that fails at once must not turn Refill into a loop on the caller's thread
        Interlocked.Increment(ref _attempts);
        try
        {
            var spec = new WorkerSpec { WorkerId = "t" + Guid.CreateVersion7().ToString("N"), FunctionName = "(template)", Code = null };
            var worker = await drivers.Get(set.Driver).StartWorkerAsync(spec, _closing.Token).ConfigureAwait(false);
            if (_closing.IsCancellationRequested) await worker.DisposeAsync().ConfigureAwait(false);
            else set.Ready.Enqueue(worker);
            bool recovered;
            lock (set.Lock)
            {
                set.Starting--;
                recovered = set.Failures > 0;
                set.Failures = 0;
                set.LastError = null;
            }
            if (recovered) LogSparesRecovered(set.Driver);
            Refill(set);
        }
        catch (Exception) when (_closing.IsCancellationRequested)
        {
            lock (set.Lock) set.Starting--;
        }
        catch (Exception e)
        {
            TimeSpan wait;
            bool changed;
            lock (set.Lock)
            {
                set.Starting--;
                set.Failures++;
                wait = Backoff(set.Failures);
                set.RetryAt = time.GetUtcNow() + wait;
                changed = set.LastError != e.Message;
                set.LastError = e.Message;
                ScheduleRetry(set);
            }
            if (changed) LogSparesFailing(e, set.Driver, e.Message, wait.TotalSeconds);
        }
    }

    /// <summary>One pending retry per driver, at the end of its backoff. Under the set's lock.</summary>
    private void ScheduleRetry(SpareSet set)
    {
        if (set.RetryScheduled || _closing.IsCancellationRequested) return;
        set.RetryScheduled = true;
        var delay = set.RetryAt - time.GetUtcNow();
        _ = RetryAsync(set, delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
    }

    private async Task RetryAsync(SpareSet set, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, time, _closing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lock (set.Lock) set.RetryScheduled = false;
        Refill(set);
    }

    /// <summary>1 s, 2 s, 4 s ... up to 60 s, each ±20% so many daemons (or drivers) do not retry in step.</summary>
    private TimeSpan Backoff(int failures)
    {
        var seconds = Math.Min(MaxRetry.TotalSeconds, FirstRetry.TotalSeconds * Math.Pow(2, Math.Min(failures - 1, 10)));
        return TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * _random.NextDouble()));
    }

    /// <summary>One driver's spares and its start state. Counters change under Lock.</summary>
    private sealed class SpareSet(string driver)
    {
        public string Driver { get; } = driver;
        public ConcurrentQueue<IWorker> Ready { get; } = new();
        public Lock Lock { get; } = new();
        public int Starting { get; set; }
        public int Failures { get; set; }
        public DateTimeOffset RetryAt { get; set; }
        public bool RetryScheduled { get; set; }
        public string? LastError { get; set; }
    }

    [LoggerMessage(EventId = 330, Level = LogLevel.Warning, Message = "spare workers for driver {Driver} cannot start: {Reason}; retrying with backoff (next in {Seconds:0} s)")]
    private partial void LogSparesFailing(Exception e, string driver, string reason, double seconds);

    [LoggerMessage(EventId = 331, Level = LogLevel.Information, Message = "spare workers for driver {Driver} start again")]
    private partial void LogSparesRecovered(string driver);
}
