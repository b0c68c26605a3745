using Microsoft.Extensions.Logging;
using Tern.Core.Functions;
using Tern.Core.Telemetry;
using Tern.Drivers;

namespace Tern.Pools;

/// <summary>The warm workers of one function version, and the calls waiting for them.
/// <para>A call takes a free slot on a ready worker when the function is under its concurrency limit; otherwise it
/// waits in one FIFO queue (at most concurrency + queueSize calls are admitted; a burst beyond that is turned away at
/// once). A worker is started only when the waiting calls that the concurrency limit would let run outnumber the
/// slots already starting (singleflight: N concurrent cold calls start ceil(N / instanceConcurrency) workers, at most
/// maxReplicas). A call that gets no slot within its timeout fails with PoolExhaustedException.</para>
/// <para>All state changes happen under one lock. A freed slot is handed to the next waiting call on the thread that
/// freed it (no hop through the thread pool), outside the lock; one pool-wide timer, armed only while calls wait,
/// expires them.</para></summary>
public sealed partial class WorkerPool
{
    private readonly Lock _lock = new();
    private readonly List<PooledWorker> _workers = [];
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly Func<CancellationToken, Task<PooledWorker>> _startWorker;
    private readonly CancellationTokenSource _closing = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TernMetrics? _metrics;
    private readonly ITimer _expiry;
    private long _expiryArmedFor = long.MaxValue; // a TimeProvider timestamp; under the lock
    private int _leased;   // calls holding a slot
    private int _starting; // workers being started
    private string? _lastStartError; // logged once until a start succeeds again

    public WorkerPool(FunctionDefinition function, Func<CancellationToken, Task<PooledWorker>> startWorker, TimeProvider time, ILogger logger, TernMetrics? metrics = null)
    {
        _metrics = metrics;
        Function = function;
        _startWorker = startWorker;
        _time = time;
        _logger = logger;
        _expiry = time.CreateTimer(static pool => ((WorkerPool)pool!).ExpireWaiters(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public FunctionDefinition Function { get; }

    /// <summary>Set when a newer version replaced this one: no prewarming, idle workers stop at once.</summary>
    public bool Retiring { get; private set; }

    public int WorkerCount { get { lock (_lock) return _workers.Count; } }
    public int StartingCount { get { lock (_lock) return _starting; } }
    public int WaitingCount { get { lock (_lock) return _waiters.Count; } }
    public bool IsEmpty { get { lock (_lock) return _workers.Count == 0 && _starting == 0 && _waiters.Count == 0; } }

    /// <summary>A slot on a worker: at once when one is free (no allocation beyond the lease), else after waiting.</summary>
    public ValueTask<WorkerLease> AcquireAsync(CancellationToken ct)
    {
        Waiter waiter;
        int start;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);
            if (_waiters.Count == 0 && _leased < Function.Concurrency && FreeWorker() is { } free)
            {
                free.InFlight++;
                _leased++;
                return new ValueTask<WorkerLease>(new WorkerLease(free, false, TimeSpan.Zero));
            }
            if (_leased + _waiters.Count >= Function.Concurrency + Function.QueueSize)
                throw new PoolExhaustedException(Function.Name, $"{Function.QueueSize} calls already wait (queueSize)", TimeSpan.Zero, queueFull: true);
            var now = _time.GetTimestamp();
            waiter = new Waiter(this, now, now + (long)(Function.TimeoutMs * (_time.TimestampFrequency / 1000.0)));
            waiter.Node = _waiters.AddLast(waiter);
            ArmExpiry(waiter.Deadline);
            start = ReserveStarts();
        }
        for (var i = 0; i < start; i++) _ = StartWorkerAsync();
        return new ValueTask<WorkerLease>(WaitAsync(waiter, ct));
    }

    private async Task<WorkerLease> WaitAsync(Waiter waiter, CancellationToken ct)
    {
        if (!ct.CanBeCanceled) return await waiter.Task.ConfigureAwait(false);
        await using (ct.Register(static w => ((Waiter)w!).Pool.Abandon((Waiter)w!), waiter).ConfigureAwait(false))
            return await waiter.Task.ConfigureAwait(false);
    }

    /// <summary>Gives a slot back. An unhealthy worker (timeout, crash, protocol failure) is retired and stopped.</summary>
    public void Release(WorkerLease lease, bool healthy)
    {
        var worker = lease.Worker;
        PooledWorker? stop = null;
        var start = 0;
        var handed = new Handoffs();
        lock (_lock)
        {
            worker.InFlight--;
            _leased--;
            worker.LastUsed = _time.GetUtcNow();
            if ((!healthy || worker.IsDead) && !worker.Retired)
            {
                worker.Retired = true;
                Crashed();
            }
            if (worker.Retired && worker.InFlight == 0 && _workers.Remove(worker)) stop = worker;
            HandSlots(ref handed);
            start = ReserveStarts();
        }
        handed.Complete();
        if (stop is not null) _ = StopAsync(stop);
        for (var i = 0; i < start; i++) _ = StartWorkerAsync();
    }

    /// <summary>Evicts dead and long-idle workers, and starts workers up to minReplicas. Called by the maintenance loop.</summary>
    public async Task MaintainAsync(PoolOptions options)
    {
        var stop = new List<PooledWorker>();
        int start;
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var keep = Retiring ? 0 : Function.MinReplicas;
            foreach (var w in _workers.ToList())
            {
                var idleTooLong = w.InFlight == 0 && (Retiring || now - w.LastUsed >= options.IdleTtl);
                // Dead, or retired while idle (it failed a ping): nothing will ever run on it again.
                if ((w.IsDead || w.Retired) && w.InFlight == 0 || idleTooLong && _workers.Count - stop.Count > keep)
                {
                    if (w.IsDead && !w.Retired) Crashed();
                    _workers.Remove(w);
                    stop.Add(w);
                }
            }
            start = Retiring ? 0 : Math.Max(0, Function.MinReplicas - Alive() - _starting);
            _starting += start;
            start += ReserveStarts(); // calls left waiting by a worker that died
        }
        foreach (var w in stop) await StopAsync(w).ConfigureAwait(false);
        for (var i = 0; i < start; i++) _ = StartWorkerAsync();
    }

    /// <summary>Pings idle workers; those that do not answer are retired, then stopped and (below minReplicas) replaced.</summary>
    public async Task PingIdleAsync(PoolOptions options)
    {
        List<PooledWorker> idle;
        lock (_lock) idle = _workers.Where(w => w.InFlight == 0 && !w.Retired).ToList();
        foreach (var w in idle)
        {
            try
            {
                await w.Agent.PingAsync(options.PingTimeout, _closing.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or IOException or OperationCanceledException or InvalidOperationException)
            {
                LogPingFailed(Function.Name, w.Worker.Id, e.Message);
                lock (_lock)
                {
                    if (!w.Retired) Crashed();
                    w.Retired = true;
                }
            }
        }
        await MaintainAsync(options).ConfigureAwait(false);
    }

    public void Retire()
    {
        lock (_lock) Retiring = true;
    }

    /// <summary>Stops every worker and fails every waiting call (daemon shutdown).</summary>
    public async Task CloseAsync()
    {
        List<PooledWorker> all;
        List<Waiter> waiting;
        lock (_lock)
        {
            _closing.Cancel();
            all = [.. _workers];
            _workers.Clear();
            waiting = [.. _waiters];
            _waiters.Clear();
        }
        _expiry.Dispose();
        foreach (var w in waiting) w.TrySetException(new ObjectDisposedException(nameof(WorkerPool), "the daemon is stopping"));
        await Task.WhenAll(all.Select(StopAsync)).ConfigureAwait(false);
    }

    private async Task StartWorkerAsync()
    {
        PooledWorker worker;
        try
        {
            worker = await _startWorker(_closing.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            StartFailed(e);
            return;
        }
        if (worker.IsDead)
        {
            // Ended between its Init and now (its pod deleted, its process killed): a failed start, not a worker. Kept,
            // it would count against maxReplicas and serve nobody, and the call waiting for it would wait in vain.
            var why = (await worker.Worker.DiagnoseAsync().ConfigureAwait(false)).StderrTail;
            await StopAsync(worker).ConfigureAwait(false);
            StartFailed(new WorkerStartException($"the worker for '{Function.Name}' ended as it started{(string.IsNullOrEmpty(why) ? "" : ": " + why)}"));
            return;
        }

        var closed = false;
        var handed = new Handoffs();
        var again = 0;
        lock (_lock)
        {
            _starting--;
            _lastStartError = null;
            closed = _closing.IsCancellationRequested;
            if (!closed)
            {
                _workers.Add(worker);
                worker.Fresh = true; // the call it goes to now was waiting for it: a cold start
                HandSlots(ref handed);
                worker.Fresh = false; // a slot taken later is a warm one
                again = ReserveStarts(); // a worker that died meanwhile may have left calls no start covers
                ArmForFirstUncovered();
            }
        }
        handed.Complete();
        if (closed) await StopAsync(worker).ConfigureAwait(false);
        for (var i = 0; i < again; i++) _ = StartWorkerAsync();
    }

    /// <summary>The longest-waiting call learns why a start failed; the others may start their own.</summary>
    private void StartFailed(Exception e)
    {
        Waiter? victim = null;
        int again;
        bool newError;
        lock (_lock)
        {
            _starting--;
            newError = _lastStartError != e.Message;
            _lastStartError = e.Message;
            if (_waiters.First is { } first)
            {
                victim = first.Value;
                Unlink(victim);
            }
            again = ReserveStarts();
            ArmForFirstUncovered();
        }
        if (newError) LogStartFailed(e, Function.Name); // once per cause, not once per call (a missing component fails them all)
        victim?.TrySetException(e);
        for (var i = 0; i < again; i++) _ = StartWorkerAsync();
    }

    /// <summary>Gives free slots to the longest-waiting calls while the concurrency limit allows. Under the lock; the
    /// caller completes the handoffs after releasing it.</summary>
    private void HandSlots(ref Handoffs handed)
    {
        while (_waiters.First is { } first && _leased < Function.Concurrency && FreeWorker() is { } worker)
        {
            var waiter = first.Value;
            Unlink(waiter);
            worker.InFlight++;
            _leased++;
            var cold = worker.Fresh;
            worker.Fresh = false;
            handed.Add(waiter, new WorkerLease(worker, cold, _time.GetElapsedTime(waiter.Started)));
        }
    }

    /// <summary>How many workers to start for the calls waiting, reserved under the lock; the caller starts them.</summary>
    private int ReserveStarts()
    {
        var count = 0;
        while (NeedsAnotherWorker())
        {
            _starting++;
            count++;
        }
        return count;
    }

    private bool NeedsAnotherWorker()
    {
        var runnable = Math.Min(_waiters.Count, Math.Max(0, Function.Concurrency - _leased));
        return Alive() + _starting < Function.MaxReplicas && runnable > _starting * Function.InstanceConcurrency;
    }

    private PooledWorker? FreeWorker()
    {
        PooledWorker? best = null;
        foreach (var w in _workers)
            if (!w.Retired && !w.IsDead && w.InFlight < Function.InstanceConcurrency && (best is null || w.InFlight > best.InFlight))
                best = w; // pack calls onto busy workers so idle ones can expire
        return best;
    }

    /// <summary>Workers that count against maxReplicas: a dead one (its process or pod gone, not yet evicted) serves
    /// nobody, so it must not keep a new one from starting.</summary>
    private int Alive()
    {
        var alive = 0;
        foreach (var w in _workers) if (!w.Retired && !w.IsDead) alive++;
        return alive;
    }

    private void Unlink(Waiter waiter)
    {
        if (waiter.Node?.List is not null) _waiters.Remove(waiter.Node);
        waiter.Node = null;
    }

    /// <summary>Arms the timer for a new waiter's deadline if none earlier is set. Waiters share the function's timeout,
    /// so a later one never moves the timer. Under the lock.</summary>
    private void ArmExpiry(long deadline)
    {
        if (deadline >= _expiryArmedFor) return;
        _expiryArmedFor = deadline;
        var wait = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
        _expiry.Change(wait > TimeSpan.FromMilliseconds(1) ? wait : TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Turns away calls that waited past the function's timeout for a slot. A call a worker is being started
    /// for (the first StartingCount x instanceConcurrency waiters) is not: it waits for that start, which has its own
    /// limits (sandbox start, Init) and fails the call with the reason if it fails. A cold start slower than the function's
    /// timeout is a slow first call, not a full pool (as on Lambda, where Init has its own timeout).</summary>
    private void ExpireWaiters()
    {
        var expired = new List<Waiter>();
        lock (_lock)
        {
            _expiryArmedFor = long.MaxValue;
            var now = _time.GetTimestamp();
            var covered = _starting * Function.InstanceConcurrency;
            var node = _waiters.First;
            for (var i = 0; node is not null && node.Value.Deadline <= now; i++)
            {
                var next = node.Next;
                if (i >= covered)
                {
                    expired.Add(node.Value);
                    Unlink(node.Value);
                }
                node = next;
            }
            ArmForFirstUncovered();
        }
        foreach (var w in expired) w.TrySetException(Exhausted(w));
    }

    /// <summary>Arms the expiry timer for the first waiter no start in flight covers. Under the lock.</summary>
    private void ArmForFirstUncovered()
    {
        var node = _waiters.First;
        for (var i = 0; node is not null && i < _starting * Function.InstanceConcurrency; i++) node = node.Next;
        if (node is not null) ArmExpiry(node.Value.Deadline);
    }

    /// <summary>The caller gave up (its token was cancelled) before it got a slot.</summary>
    private void Abandon(Waiter waiter)
    {
        lock (_lock)
        {
            if (waiter.Node is null) return; // already handed a slot or expired
            Unlink(waiter);
        }
        waiter.TrySetCanceled();
    }

    private PoolExhaustedException Exhausted(Waiter waiter)
    {
        var waited = _time.GetElapsedTime(waiter.Started);
        bool atConcurrency;
        lock (_lock) atConcurrency = _leased >= Function.Concurrency;
        return atConcurrency
            ? new PoolExhaustedException(Function.Name, $"concurrency limit {Function.Concurrency} reached", waited)
            : new PoolExhaustedException(Function.Name,
                $"all {Function.MaxReplicas} workers busy (maxReplicas {Function.MaxReplicas}, instanceConcurrency {Function.InstanceConcurrency})", waited);
    }

    private async Task StopAsync(PooledWorker worker)
    {
        _metrics?.WorkersStopped.Add(1, TernMetrics.Function(Function.Name), TernMetrics.Isolation(Function.Isolation));
        try { await worker.DisposeAsync().ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { LogStopFailed(e, Function.Name); }
    }

    private void Crashed() => _metrics?.WorkersCrashed.Add(1, TernMetrics.Function(Function.Name), TernMetrics.Isolation(Function.Isolation));

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "starting a worker for {Function} failed")]
    private partial void LogStartFailed(Exception e, string function);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "worker {WorkerId} of {Function} failed its ping: {Reason}")]
    private partial void LogPingFailed(string function, string workerId, string reason);

    [LoggerMessage(EventId = 302, Level = LogLevel.Debug, Message = "stopping a worker of {Function} failed")]
    private partial void LogStopFailed(Exception e, string function);
}
