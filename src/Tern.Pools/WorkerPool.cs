using Microsoft.Extensions.Logging;
using Tern.Core.Functions;
using Tern.Core.Telemetry;

namespace Tern.Pools;

/// <summary>The warm workers of one function version. A call takes a free slot on a ready worker; if there is none it
/// queues, and a worker is started only when the queue is longer than the slots already starting (singleflight:
/// N concurrent cold calls start ceil(N / instanceConcurrency) workers, at most maxReplicas). A call that cannot get a
/// slot before its timeout fails with PoolExhaustedException. All state changes happen under one lock.</summary>
public sealed partial class WorkerPool
{
    private readonly Lock _lock = new();
    private readonly List<PooledWorker> _workers = [];
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly SemaphoreSlim _concurrency;
    private readonly Func<CancellationToken, Task<PooledWorker>> _startWorker;
    private readonly CancellationTokenSource _closing = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TernMetrics? _metrics;
    private int _starting;
    private int _waitingForConcurrency;

    public WorkerPool(FunctionDefinition function, Func<CancellationToken, Task<PooledWorker>> startWorker, TimeProvider time, ILogger logger, TernMetrics? metrics = null)
    {
        _metrics = metrics;
        Function = function;
        _startWorker = startWorker;
        _time = time;
        _logger = logger;
        _concurrency = new SemaphoreSlim(function.Concurrency, function.Concurrency);
    }

    public FunctionDefinition Function { get; }

    /// <summary>Set when a newer version replaced this one: no prewarming, idle workers stop at once.</summary>
    public bool Retiring { get; private set; }

    public int WorkerCount { get { lock (_lock) return _workers.Count; } }
    public int StartingCount { get { lock (_lock) return _starting; } }
    public int WaitingCount { get { lock (_lock) return _waiters.Count; } }
    public bool IsEmpty { get { lock (_lock) return _workers.Count == 0 && _starting == 0 && _waiters.Count == 0; } }

    public async Task<WorkerLease> AcquireAsync(CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        var budget = TimeSpan.FromMilliseconds(Function.TimeoutMs);
        if (!_concurrency.Wait(0))
        {
            // At the concurrency limit, at most queueSize calls wait; a burst beyond that is turned away at once.
            if (Interlocked.Increment(ref _waitingForConcurrency) > Function.QueueSize)
            {
                Interlocked.Decrement(ref _waitingForConcurrency);
                throw new PoolExhaustedException(Function.Name, $"{Function.QueueSize} calls already wait (queueSize)", TimeSpan.Zero, queueFull: true);
            }
            try
            {
                if (!await _concurrency.WaitAsync(budget, ct).ConfigureAwait(false))
                    throw new PoolExhaustedException(Function.Name, $"concurrency limit {Function.Concurrency} reached", budget);
            }
            finally
            {
                Interlocked.Decrement(ref _waitingForConcurrency);
            }
        }
        try
        {
            return await AcquireSlotAsync(started, budget, ct).ConfigureAwait(false);
        }
        catch
        {
            _concurrency.Release();
            throw;
        }
    }

    private async Task<WorkerLease> AcquireSlotAsync(long started, TimeSpan budget, CancellationToken ct)
    {
        Waiter waiter;
        LinkedListNode<Waiter> node;
        var start = false;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);
            if (FreeWorker() is { } free)
            {
                free.InFlight++;
                return new WorkerLease(free, false, _time.GetElapsedTime(started));
            }
            waiter = new Waiter();
            node = _waiters.AddLast(waiter);
            if (NeedsAnotherWorker())
            {
                _starting++;
                waiter.StartedAWorker = true;
                start = true;
            }
        }
        if (start) _ = StartWorkerAsync(waiter);

        try
        {
            var remaining = budget - _time.GetElapsedTime(started);
            var (worker, cold) = await waiter.Slot.Task.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, ct).ConfigureAwait(false);
            return new WorkerLease(worker, cold, _time.GetElapsedTime(started));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            lock (_lock)
            {
                if (node.List is not null) _waiters.Remove(node);
            }
            // A slot may have been handed over just as the wait ended: then the call keeps it.
            if (waiter.Slot.Task.IsCompletedSuccessfully)
                return new WorkerLease(waiter.Slot.Task.Result.Worker, waiter.Slot.Task.Result.Cold, _time.GetElapsedTime(started));
            ct.ThrowIfCancellationRequested();
            throw new PoolExhaustedException(Function.Name,
                $"all {Function.MaxReplicas} workers busy (maxReplicas {Function.MaxReplicas}, instanceConcurrency {Function.InstanceConcurrency})",
                _time.GetElapsedTime(started));
        }
    }

    /// <summary>Gives a slot back. An unhealthy worker (timeout, crash, protocol failure) is retired and stopped.</summary>
    public void Release(WorkerLease lease, bool healthy)
    {
        var worker = lease.Worker;
        PooledWorker? stop = null;
        var start = 0;
        lock (_lock)
        {
            worker.InFlight--;
            worker.LastUsed = _time.GetUtcNow();
            if ((!healthy || worker.IsDead) && !worker.Retired)
            {
                worker.Retired = true;
                Crashed();
            }
            if (worker.Retired)
            {
                if (worker.InFlight == 0 && _workers.Remove(worker)) stop = worker;
                start = StartForWaiters();
            }
            else
            {
                HandSlots(worker);
            }
        }
        _concurrency.Release();
        if (stop is not null) _ = StopAsync(stop);
        for (var i = 0; i < start; i++) _ = StartWorkerAsync(null);
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
                if (w.IsDead && w.InFlight == 0 || idleTooLong && _workers.Count - stop.Count > keep)
                {
                    if (w.IsDead && !w.Retired) Crashed();
                    _workers.Remove(w);
                    stop.Add(w);
                }
            }
            start = Retiring ? 0 : Math.Max(0, Function.MinReplicas - Alive() - _starting);
            _starting += start;
        }
        foreach (var w in stop) await StopAsync(w).ConfigureAwait(false);
        for (var i = 0; i < start; i++) _ = StartWorkerAsync(null);
    }

    /// <summary>Pings idle workers; those that do not answer are retired.</summary>
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
        lock (_lock)
        {
            _closing.Cancel();
            all = [.. _workers];
            _workers.Clear();
            foreach (var w in _waiters) w.Slot.TrySetException(new ObjectDisposedException(nameof(WorkerPool), "the daemon is stopping"));
            _waiters.Clear();
        }
        await Task.WhenAll(all.Select(StopAsync)).ConfigureAwait(false);
    }

    private async Task StartWorkerAsync(Waiter? starter)
    {
        PooledWorker worker;
        try
        {
            worker = await _startWorker(_closing.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            int again;
            lock (_lock)
            {
                _starting--;
                // The call whose arrival started this worker learns why it failed; the others may start their own.
                var victim = starter is not null && _waiters.Remove(starter) ? starter : null;
                victim ??= _waiters.First?.Value;
                if (victim is not null)
                {
                    _waiters.Remove(victim);
                    victim.Slot.TrySetException(e);
                }
                again = StartForWaiters();
            }
            LogStartFailed(e, Function.Name);
            for (var i = 0; i < again; i++) _ = StartWorkerAsync(null);
            return;
        }

        var closed = false;
        lock (_lock)
        {
            _starting--;
            closed = _closing.IsCancellationRequested;
            if (!closed)
            {
                _workers.Add(worker);
                if (starter is not null && _waiters.Remove(starter))
                {
                    worker.InFlight++;
                    starter.Slot.TrySetResult((worker, true));
                }
                HandSlots(worker);
            }
        }
        if (closed) await StopAsync(worker).ConfigureAwait(false);
    }

    /// <summary>Gives a worker's free slots to the longest-waiting calls. Under the lock.</summary>
    private void HandSlots(PooledWorker worker)
    {
        while (!worker.Retired && worker.InFlight < Function.InstanceConcurrency && _waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            worker.InFlight++;
            first.Value.Slot.TrySetResult((worker, false));
        }
    }

    private PooledWorker? FreeWorker()
    {
        PooledWorker? best = null;
        foreach (var w in _workers)
            if (!w.Retired && !w.IsDead && w.InFlight < Function.InstanceConcurrency && (best is null || w.InFlight > best.InFlight))
                best = w; // pack calls onto busy workers so idle ones can expire
        return best;
    }

    private int Alive() => _workers.Count(w => !w.Retired);

    private bool NeedsAnotherWorker() =>
        Alive() + _starting < Function.MaxReplicas && _waiters.Count > _starting * Function.InstanceConcurrency;

    /// <summary>How many workers to start for calls still waiting. Under the lock; the caller starts them after it.</summary>
    private int StartForWaiters()
    {
        var count = 0;
        while (NeedsAnotherWorker())
        {
            _starting++;
            count++;
        }
        return count;
    }

    private async Task StopAsync(PooledWorker worker)
    {
        _metrics?.WorkersStopped.Add(1, TernMetrics.Function(Function.Name));
        try { await worker.DisposeAsync().ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { LogStopFailed(e, Function.Name); }
    }

    private void Crashed() => _metrics?.WorkersCrashed.Add(1, TernMetrics.Function(Function.Name));

    private sealed class Waiter
    {
        public TaskCompletionSource<(PooledWorker Worker, bool Cold)> Slot { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool StartedAWorker { get; set; }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "starting a worker for {Function} failed")]
    private partial void LogStartFailed(Exception e, string function);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "worker {WorkerId} of {Function} failed its ping: {Reason}")]
    private partial void LogPingFailed(string function, string workerId, string reason);

    [LoggerMessage(EventId = 302, Level = LogLevel.Debug, Message = "stopping a worker of {Function} failed")]
    private partial void LogStopFailed(Exception e, string function);
}
