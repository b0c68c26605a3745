using Tern.Core.Executions;
using Tern.Core.Functions;
using Tern.Core.Invocations;
using Tern.Invocation.Admission;
using Tern.Invocation.Async;
using Tern.Json;
using Tern.Storage;

namespace Tern.Invocation;

/// <summary>The front door for calls: sync invoke and async enqueue both leave an execution record. An async call is
/// committed to the store before it is acknowledged, so an accepted call survives a crash.</summary>
public sealed class InvocationService
{
    private readonly IFunctionStore functions;
    private readonly IExecutionStore executions;
    private readonly FunctionInvoker invoker;
    private readonly AsyncDispatcher dispatcher;
    private readonly TimeProvider time;
    private readonly RateLimits limits;
    private readonly Idempotency idempotency;
    private readonly VersionResolver versions;

    // Internal: its collaborators are internal to the layer, so the layer's registration builds it (DI needs a public
    // constructor); the fields keep the parameters' names so the members read as they did with a primary constructor.
    internal InvocationService(
        IFunctionStore functions, IExecutionStore executions, FunctionInvoker invoker, AsyncDispatcher dispatcher, TimeProvider time, RateLimits limits, Idempotency idempotency, VersionResolver versions)
    {
        this.functions = functions;
        this.executions = executions;
        this.invoker = invoker;
        this.dispatcher = dispatcher;
        this.time = time;
        this.limits = limits;
        this.idempotency = idempotency;
        this.versions = versions;
    }

    /// <summary>Calls waiting in the async queues (not running), per function with a queue: a gauge for the metrics.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> QueueDepths() => dispatcher.Depths();

    /// <summary>Runs a call now and records it (running, then its outcome).</summary>
    public async Task<InvocationResult> InvokeAsync(string function, RawJson input, InvocationOptions options, CancellationToken ct) =>
        await (await StartInvokeAsync(function, input, options, ct).ConfigureAwait(false)).Result.ConfigureAwait(false);

    /// <summary>Admits a sync call (rate limits, Idempotency-Key), records it as running when its id can reach anyone
    /// early, and starts it; returns with a task for the result. The run does not depend on the caller: it finishes and
    /// is recorded even if the caller stops waiting. <paramref name="ct"/> covers admission and, for a replay, waiting
    /// for the earlier call. Throws RateLimitedException (no record is written).</summary>
    public async ValueTask<StartedInvocation> StartInvokeAsync(string function, RawJson input, InvocationOptions options, CancellationToken ct)
    {
        var definition = await functions.GetAsync(function, ct).ConfigureAwait(false) ?? throw new FunctionNotFoundException(function);
        var target = options.Qualifier is null ? null : await versions.ResolveAsync(definition.Name, options.Qualifier, ct).ConfigureAwait(false);
        limits.Acquire(definition);
        string? key = null;
        if (options.IdempotencyKey is not null)
        {
            (var existing, key) = await idempotency.LookupAsync(definition.Name, options.IdempotencyKey, ct).ConfigureAwait(false);
            if (existing is not null) return Replay(existing, definition, ct);
        }
        var call = new SyncCall(FunctionInvoker.NewExecutionId(), definition.Name, target?.Label, input, time.GetUtcNow(),
            options.TraceId, options.TraceParent, key);
        // A plain sync call's id reaches no one before its answer does, so one write of the outcome is enough
        // (measured: the extra write doubled the warm p50 at one connection).
        var early = options.RecordWhileRunning || key is not null;
        if (early)
        {
            try
            {
                await executions.InsertAsync(call.Record(ExecutionStatus.Running), ct).ConfigureAwait(false);
            }
            catch (DuplicateIdempotencyKeyException) when (key is not null)
            {
                return Replay(await idempotency.WinnerAsync(definition.Name, key, ct).ConfigureAwait(false), definition, ct);
            }
        }
        return new StartedInvocation(call.ExecutionId, RunAsync(call, inserted: early, target), Replayed: false);
    }

    private StartedInvocation Replay(ExecutionRecord existing, FunctionDefinition definition, CancellationToken ct) =>
        new(existing.ExecutionId, idempotency.ResultAsync(existing, definition.TimeoutMs, ct), Replayed: true);

    private async Task<InvocationResult> RunAsync(SyncCall call, bool inserted, ResolvedFunction? target)
    {
        InvocationResult result;
        try
        {
            result = await invoker.InvokeAsync(new InvocationRequest(call.Function, call.Input, call.TraceId, call.ExecutionId, call.TraceParent, Target: target),
                CancellationToken.None).ConfigureAwait(false); // the run finishes and is recorded even if the caller leaves
        }
        catch (Exception e)
        {
            await StoreOutcomeAsync(call.Record(ExecutionStatus.Error) with
            {
                FinishedAt = time.GetUtcNow(), Error = new InvocationError("PlatformError", e.Message),
            }, inserted).ConfigureAwait(false);
            throw;
        }
        await StoreOutcomeAsync(call.Record(result.Status, result, time.GetUtcNow()), inserted).ConfigureAwait(false);
        return result;
    }

    /// <summary>A record that exists already (its id could reach someone early) is updated before the answer goes out.
    /// A plain sync call's only record is written behind its answer: its caller gets the result in the response, and
    /// the store serves the record to readers of this daemon before it is committed (read-your-writes); a write that
    /// fails is logged by the store. Waiting for the commit put every SQLite checkpoint into the calls' tail latency
    /// (docs/hot-path.md).</summary>
    private Task StoreOutcomeAsync(ExecutionRecord finished, bool inserted)
    {
        if (inserted) return executions.UpdateAsync(finished, CancellationToken.None);
        _ = executions.InsertAsync(finished, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>What a sync call's record is made of, so a plain call builds exactly one record (its outcome).</summary>
    private readonly record struct SyncCall(string ExecutionId, string Function, string? Version, RawJson Input, DateTimeOffset CreatedAt,
        string TraceId, string? TraceParent, string? IdempotencyKey)
    {
        public ExecutionRecord Record(string status, InvocationResult? result = null, DateTimeOffset? finishedAt = null) => new()
        {
            ExecutionId = ExecutionId, Function = Function, Version = Version, Status = status, Async = false, Input = Input,
            CreatedAt = CreatedAt, StartedAt = CreatedAt, TraceId = TraceId, TraceParent = TraceParent, IdempotencyKey = IdempotencyKey,
            Output = result?.Output, Error = result?.Error, FinishedAt = finishedAt, DurationMs = result?.DurationMs,
            ColdStart = result?.ColdStart ?? false,
        };
    }

    /// <summary>Accepts an async call: checks the queue bound, commits the record, queues it. Throws QueueFullException.</summary>
    public async Task<ExecutionRecord> EnqueueAsync(string function, RawJson input, InvocationOptions options, CancellationToken ct) =>
        (await EnqueueCallAsync(function, input, options, ct).ConfigureAwait(false)).Record;

    /// <summary>As EnqueueAsync, and says whether an Idempotency-Key replayed an earlier call (nothing new queued).
    /// Throws RateLimitedException or QueueFullException (no record is written).</summary>
    public async Task<EnqueuedCall> EnqueueCallAsync(string function, RawJson input, InvocationOptions options, CancellationToken ct)
    {
        var definition = await functions.GetAsync(function, ct).ConfigureAwait(false) ?? throw new FunctionNotFoundException(function);
        var target = options.Qualifier is null ? null : await versions.ResolveAsync(definition.Name, options.Qualifier, ct).ConfigureAwait(false);
        limits.Acquire(definition);
        string? key = null;
        if (options.IdempotencyKey is not null)
        {
            (var existing, key) = await idempotency.LookupAsync(definition.Name, options.IdempotencyKey, ct).ConfigureAwait(false);
            if (existing is not null) return new EnqueuedCall(existing, Replayed: true);
        }
        dispatcher.Reserve(definition);
        var record = NewRecord(definition.Name, input, options, async: true) with { IdempotencyKey = key, Version = target?.Label };
        try
        {
            await executions.InsertAsync(record, ct).ConfigureAwait(false);
        }
        catch (DuplicateIdempotencyKeyException) when (key is not null)
        {
            dispatcher.Release(definition.Name);
            return new EnqueuedCall(await idempotency.WinnerAsync(definition.Name, key, ct).ConfigureAwait(false), Replayed: true);
        }
        catch
        {
            dispatcher.Release(definition.Name);
            throw;
        }
        dispatcher.Enqueue(record, reserved: true);
        return new EnqueuedCall(record, Replayed: false);
    }

    public Task<ExecutionRecord?> GetAsync(string executionId, CancellationToken ct) => executions.GetAsync(executionId, ct);

    /// <summary>Records of sync and async calls, newest first, one page at a time (functions need not exist any more:
    /// a deleted function's records stay until they expire).</summary>
    public Task<ExecutionPage> ListAsync(ExecutionQuery query, CancellationToken ct) => executions.ListAsync(query, ct);

    public async Task<IReadOnlyList<ExecutionRecord>> DeadLettersAsync(string function, int limit, CancellationToken ct)
    {
        _ = await functions.GetAsync(function, ct).ConfigureAwait(false) ?? throw new FunctionNotFoundException(function);
        return await executions.ListDeadLettersAsync(function, limit, ct).ConfigureAwait(false);
    }

    /// <summary>Runs a dead letter again with a fresh retry budget; same executionId. Null if there is no such dead letter.</summary>
    public async Task<ExecutionRecord?> RedriveAsync(string executionId, CancellationToken ct)
    {
        var record = await executions.GetAsync(executionId, ct).ConfigureAwait(false);
        if (record is not { DeadLetter: true }) return null;
        var again = record with
        {
            Status = ExecutionStatus.Queued, Attempt = 1, DeadLetter = false, Output = null, Error = null,
            StartedAt = null, FinishedAt = null, DurationMs = null, NotBefore = null,
        };
        await executions.UpdateAsync(again, ct).ConfigureAwait(false);
        dispatcher.Enqueue(again, reserved: false);
        return again;
    }

    private ExecutionRecord NewRecord(string function, RawJson input, InvocationOptions options, bool async) => new()
    {
        ExecutionId = FunctionInvoker.NewExecutionId(), Function = function, Status = ExecutionStatus.Queued, Async = async,
        Input = input, CreatedAt = time.GetUtcNow(), TraceId = options.TraceId, TraceParent = options.TraceParent,
        CallbackUrl = options.CallbackUrl,
    };
}
