using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Core.Executions;
using Tern.Core.Functions;
using Tern.Core.Invocations;
using Tern.Drivers;
using Tern.Invocation.Callbacks;
using Tern.Pools;
using Tern.Storage;

namespace Tern.Invocation.Async;

/// <summary>Runs accepted async calls. Each function has a bounded queue; one loop hands out work round-robin across
/// functions, at most `concurrency` at a time per function, so one hot function cannot starve the others. A failed run
/// is retried with exponential backoff and jitter (same executionId, attempt + 1) until maxRetries, then dead-lettered.
/// Which calls reach the queues is the work source's part (<see cref="IAsyncWorkSource"/>): alone on its store, the
/// daemon runs what it accepts and on start resumes every unfinished record; sharing the store with other daemons, it
/// runs what it claims. Either way an accepted call runs at least once.</summary>
/// <param name="jitter">The retry backoff's jitter; tests pass a fixed one. Random.Shared (thread-safe: runs finish
/// concurrently) by default.</param>
/// <param name="source">Where work comes from; the local one (this daemon alone on its store) by default.</param>
internal sealed partial class AsyncDispatcher(
    IExecutionStore store, IFunctionStore functions, FunctionInvoker invoker, CallbackSender callbacks,
    IOptions<AsyncOptions> options, TimeProvider time, ILogger<AsyncDispatcher> logger, Random? jitter = null,
    IAsyncWorkSource? source = null) : BackgroundService, IAsyncWorkSink
{
    private readonly IAsyncWorkSource _source = source ?? new LocalWorkSource(store, logger);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FunctionQueue> _queues = new(StringComparer.Ordinal);
    private readonly List<FunctionQueue> _ring = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Random _jitter = jitter ?? Random.Shared;
    private int _next;
    private CancellationToken _stopping;

    /// <summary>Counts a new call against the function's queueSize; throws QueueFullException when it is full.
    /// Pair with Enqueue (after the record is committed) or Release (if committing failed).</summary>
    public void Reserve(FunctionDefinition function)
    {
        lock (_lock)
        {
            var queue = QueueFor(function.Name);
            queue.Concurrency = function.Concurrency;
            if (_source.Waiting(function.Name, queue.Waiting) + queue.Reserved >= function.QueueSize) throw new QueueFullException(function.Name, function.QueueSize);
            queue.Reserved++;
        }
    }

    public void Release(string function)
    {
        lock (_lock) QueueFor(function).Reserved--;
    }

    /// <summary>Hands a committed record (a reserved admission, or a redrive) to the work source, and queues it here
    /// when the source says so.</summary>
    public void Enqueue(ExecutionRecord record, bool reserved)
    {
        if (reserved) lock (_lock) QueueFor(record.Function).Reserved--;
        if (_source.Offer(record)) EnqueueHere(record);
    }

    private void EnqueueHere(ExecutionRecord record)
    {
        lock (_lock)
        {
            var queue = QueueFor(record.Function);
            if (record.NotBefore is { } due && due > time.GetUtcNow()) queue.Delayed.Enqueue(record, due);
            else queue.Ready.Enqueue(record);
        }
        _wake.Release();
    }

    /// <summary>Calls waiting (not running) for a function.</summary>
    public int Depth(string function)
    {
        lock (_lock) return _queues.TryGetValue(function, out var q) ? q.Waiting : 0;
    }

    /// <summary>Calls waiting (not running), per function with a queue.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> Depths()
    {
        lock (_lock) return [.. _queues.Select(q => KeyValuePair.Create(q.Key, q.Value.Waiting))];
    }

    /// <summary>Starts the work source, which resumes what the store holds before returning: hosted services start
    /// before the server takes calls, so no call can be accepted in between (such a call would be both listed by
    /// recovery and queued, and run twice).</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await _source.StartAsync(this, cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _source.StopAsync(cancellationToken).ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues recovered or claimed calls here (a call cut short while running starts again).</summary>
    async Task IAsyncWorkSink.AddAsync(IReadOnlyList<ExecutionRecord> records, CancellationToken ct)
    {
        foreach (var record in records)
        {
            if (await functions.GetAsync(record.Function, ct).ConfigureAwait(false) is { } function)
                lock (_lock) QueueFor(function.Name).Concurrency = function.Concurrency;
            EnqueueHere(record with { Status = ExecutionStatus.Queued });
        }
    }

    IReadOnlyCollection<string> IAsyncWorkSink.Saturated()
    {
        lock (_lock) return [.. _ring.Where(Saturated).Select(q => q.Function)];
    }

    bool IAsyncWorkSink.HasRoom(string function)
    {
        lock (_lock) return !_queues.TryGetValue(function, out var queue) || !Saturated(queue);
    }

    private static bool Saturated(FunctionQueue queue) => queue.Waiting >= Math.Max(1, queue.Concurrency);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        while (!stoppingToken.IsCancellationRequested)
        {
            var nextDue = DispatchReady();
            try
            {
                await WaitForWorkAsync(nextDue, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Until a call is queued or a run ends (the wake-up), or <paramref name="due"/> (the earliest delayed retry)
    /// comes on the dispatcher's clock: retries fall due by that clock, so the wait is timed on it too (a fake one in
    /// tests, which arms the timer relative to its time at this moment: hence the wait is computed just before).</summary>
    private async Task WaitForWorkAsync(DateTimeOffset? due, CancellationToken stoppingToken)
    {
        if (due is null)
        {
            await _wake.WaitAsync(stoppingToken).ConfigureAwait(false);
            return;
        }
        var wait = due.Value - time.GetUtcNow();
        if (wait <= TimeSpan.Zero) return; // already due
        using var timeout = new CancellationTokenSource(wait, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            await _wake.WaitAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // A delayed retry is due.
        }
    }

    /// <summary>Starts every run the limits allow, fairly; returns when the earliest delayed retry falls due.</summary>
    private DateTimeOffset? DispatchReady()
    {
        var start = new List<(FunctionQueue Queue, ExecutionRecord Record)>();
        DateTimeOffset? nextDue = null;
        lock (_lock)
        {
            var now = time.GetUtcNow();
            foreach (var q in _ring)
            {
                q.Promote(now);
                if (q.NextDue is { } due && (nextDue is null || due < nextDue)) nextDue = due;
            }
            // Round-robin, one call per function per turn, until no function can take more.
            var idle = 0;
            while (_ring.Count > 0 && idle < _ring.Count)
            {
                var q = _ring[_next = (_next + 1) % _ring.Count];
                if (q.Ready.Count > 0 && q.InFlight < q.Concurrency)
                {
                    q.InFlight++;
                    start.Add((q, q.Ready.Dequeue()));
                    idle = 0;
                }
                else idle++;
            }
        }
        foreach (var (queue, record) in start) _ = RunAsync(queue, record);
        return nextDue;
    }

    private async Task RunAsync(FunctionQueue queue, ExecutionRecord record)
    {
        try
        {
            var final = await RunOnceAsync(record).ConfigureAwait(false);
            if (final is not null && ExecutionStatus.IsTerminal(final.Status) && final.CallbackUrl is not null) callbacks.Send(final);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: the record stays queued/running in the store and the next start resumes it.
        }
        catch (Exception e)
        {
            LogRunFailed(e, record.ExecutionId);
        }
        finally
        {
            lock (_lock) queue.InFlight--;
            _source.Ended(record);
            _wake.Release();
        }
    }

    /// <summary>One attempt: marks the record running, invokes, and stores the outcome (or schedules the retry).</summary>
    private async Task<ExecutionRecord?> RunOnceAsync(ExecutionRecord record)
    {
        if (!_source.Holds(record)) return null; // its lease went to another daemon while it waited here
        var function = await functions.GetAsync(record.Function, _stopping).ConfigureAwait(false);
        if (function is null)
            return await FinishAsync(record, new InvocationResult
            {
                ExecutionId = record.ExecutionId, Status = ExecutionStatus.Error,
                Error = new InvocationError("FunctionNotFound", $"function '{record.Function}' was deleted before the call ran"),
            }, retry: false, dead: true).ConfigureAwait(false);

        var running = record with { Status = ExecutionStatus.Running, StartedAt = time.GetUtcNow(), NotBefore = null };
        if (!await _source.WriteAsync(running, _stopping).ConfigureAwait(false)) return LeaseLostHere(record);

        InvocationResult result;
        using var run = CancellationTokenSource.CreateLinkedTokenSource(_stopping, _source.LeaseLost(record));
        try
        {
            result = await invoker.InvokeAsync(new InvocationRequest(record.Function, record.Input, record.TraceId,
                record.ExecutionId, record.TraceParent, Qualifier: record.Version), run.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested && !_source.Holds(record))
        {
            return LeaseLostHere(record);
        }
        catch (Exception e) when (e is PoolExhaustedException or WorkerStartException)
        {
            result = new InvocationResult
            {
                ExecutionId = record.ExecutionId, Status = ExecutionStatus.Error,
                Error = new InvocationError(e is PoolExhaustedException ? "Capacity" : "WorkerStartFailed", e.Message),
            };
        }
        if (!_source.Holds(record)) return LeaseLostHere(record); // ended just as the lease went: the holder writes the outcome
        var failed = result.Status != InvocationStatus.Success;
        var retry = failed && running.Attempt <= function.MaxRetries;
        return await FinishAsync(running, result, retry, dead: failed && !retry).ConfigureAwait(false);
    }

    /// <summary>Null when the record was not written: the call's lease went to another daemon (which writes its outcome).</summary>
    private async Task<ExecutionRecord?> FinishAsync(ExecutionRecord record, InvocationResult result, bool retry, bool dead)
    {
        var now = time.GetUtcNow();
        ExecutionRecord next;
        if (retry)
        {
            next = record with
            {
                Status = ExecutionStatus.Queued, Attempt = record.Attempt + 1, Error = result.Error, Output = null,
                NotBefore = now + RetryBackoff.Delay(record.Attempt, options.Value, _jitter), ColdStart = result.ColdStart,
            };
            if (!await _source.WriteAsync(next, CancellationToken.None).ConfigureAwait(false)) return LeaseLostHere(record);
            if (_source.RetryHere(next)) EnqueueHere(next);
            return next;
        }
        next = record with
        {
            Status = result.Status, Output = result.Output, Error = result.Error, FinishedAt = now, ColdStart = result.ColdStart,
            DurationMs = result.DurationMs, DeadLetter = dead,
        };
        return await _source.WriteAsync(next, CancellationToken.None).ConfigureAwait(false) ? next : LeaseLostHere(record);
    }

    private ExecutionRecord? LeaseLostHere(ExecutionRecord record)
    {
        LogLeaseLost(record.ExecutionId);
        return null;
    }

    private FunctionQueue QueueFor(string function)
    {
        if (!_queues.TryGetValue(function, out var queue))
        {
            _queues[function] = queue = new FunctionQueue(function);
            _ring.Add(queue);
        }
        return queue;
    }

    [LoggerMessage(EventId = 401, Level = LogLevel.Error, Message = "async execution {ExecutionId} failed inside the dispatcher")]
    private partial void LogRunFailed(Exception e, string executionId);

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning,
        Message = "async execution {ExecutionId}: this daemon lost its lease (stalled past it) and another daemon claimed it; stopped here, its outcome left to that daemon")]
    private partial void LogLeaseLost(string executionId);
}
