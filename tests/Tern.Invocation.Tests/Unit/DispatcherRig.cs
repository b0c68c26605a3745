using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Tern.Core.Executions;
using Tern.Core.Functions;
using Tern.Invocation.Async;
using Tern.Invocation.Callbacks;
using Tern.Invocation.Logs;
using Tern.Json;
using Tern.Storage;
using Tern.Storage.Sql;
using Tern.Storage.Sqlite;
using Tern.Testing;
using Tern.Testing.FakeDriver;
using static Microsoft.Extensions.Options.Options;

namespace Tern.Invocation.Tests.Unit;

/// <summary>The real AsyncDispatcher, FunctionInvoker, pools and SQLite stores (in a temporary directory) over the fake
/// driver and a fake clock. The dispatcher's clock is watched, so a test can tell when a retry's timer is armed.</summary>
internal sealed class DispatcherRig : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tern-dispatch-" + Guid.NewGuid().ToString("N"));
    private readonly SqliteExecutionStore _executions;
    private readonly CallbackSender _callbacks;

    /// <param name="jitter">The fraction the dispatcher's Random always draws (0: no jitter).</param>
    /// <param name="wrapStore">Puts a decorator between the dispatcher and the execution store (tests that delay it).</param>
    /// <param name="source">The dispatcher's work source over the store (the local one when null).</param>
    public DispatcherRig(double jitter = 0, Func<IExecutionStore, IExecutionStore>? wrapStore = null,
        Func<IExecutionStore, TimeProvider, IAsyncWorkSource>? source = null)
    {
        Directory.CreateDirectory(_dir);
        var database = new SqliteDatabase(Path.Combine(_dir, "tern.db"));
        Functions = new SqlFunctionStore(database);
        _executions = new SqliteExecutionStore(database);
        Clock = new WatchedTimeProvider(Pools.Time);
        var asyncOptions = Create(Options);
        var logs = new ExecutionLogs(new SqlLogStore(database), asyncOptions, Pools.Time, NullLogger<ExecutionLogs>.Instance);
        var invoker = new FunctionInvoker(new VersionResolver(Functions, new SqlVersionStore(database)), Pools.Pools, Pools.Metrics,
            NullLogger<FunctionInvoker>.Instance, logs);
        _callbacks = new CallbackSender(new CallbackTargets(Create(new CallbackOptions())), NullLogger<CallbackSender>.Instance);
        Dispatcher = new AsyncDispatcher(wrapStore?.Invoke(_executions) ?? _executions, Functions, invoker, _callbacks, asyncOptions, Clock,
            NullLogger<AsyncDispatcher>.Instance, new FixedRandom(jitter), source?.Invoke(_executions, Clock));
    }

    public PoolRig Pools { get; } = new();
    public FakeDriver Driver => Pools.Driver;
    public WatchedTimeProvider Clock { get; }
    public AsyncOptions Options { get; } = new() { BaseBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromMinutes(5) };
    public SqlFunctionStore Functions { get; }
    public AsyncDispatcher Dispatcher { get; }

    public async Task<FunctionDefinition> CreateAsync(string name, Func<FunctionDefinition, FunctionDefinition>? tweak = null)
    {
        var function = PoolRig.Function(name, tweak);
        await Functions.CreateAsync(function);
        return function;
    }

    /// <summary>Starts the dispatcher and waits until its loop has run what recovery found. The marker is a queued call
    /// of a function that does not exist, which only recovery can find; it is dead-lettered at once.</summary>
    public async Task StartAsync()
    {
        var marker = NewRecord("(recovery-marker)");
        await _executions.InsertAsync(marker);
        await Dispatcher.StartAsync(CancellationToken.None);
        await WaitForAsync(async () => (await GetAsync(marker.ExecutionId)).DeadLetter, "recovery at start");
    }

    /// <summary>What InvocationService.EnqueueAsync does: reserve a place, commit the record, queue it.</summary>
    /// <summary>A queued call already in the store, as a previous daemon would have left it.</summary>
    public async Task<string> InsertQueuedAsync(FunctionDefinition function)
    {
        var record = NewRecord(function.Name);
        await _executions.InsertAsync(record);
        return record.ExecutionId;
    }

    public async Task<string> EnqueueAsync(FunctionDefinition function)
    {
        Dispatcher.Reserve(function);
        var record = NewRecord(function.Name);
        await _executions.InsertAsync(record);
        Dispatcher.Enqueue(record, reserved: true);
        return record.ExecutionId;
    }

    private ExecutionRecord NewRecord(string function) => new()
    {
        ExecutionId = FunctionInvoker.NewExecutionId(), Function = function, Status = ExecutionStatus.Queued, Async = true,
        Input = RawJson.EmptyObject, CreatedAt = Clock.GetUtcNow(),
    };

    /// <summary>Eventually.TrueAsync, failing at once with the dispatcher's own error if its loop died.</summary>
    public Task WaitForAsync(Func<bool> condition, string what) => WaitForAsync(() => Task.FromResult(condition()), what);

    public Task WaitForAsync(Func<Task<bool>> condition, string what) => Eventually.TrueAsync(async () =>
    {
        if (Dispatcher.ExecuteTask is { IsCompleted: true } loop)
            throw new InvalidOperationException($"the dispatcher stopped while waiting for: {what}", loop.Exception);
        return await condition();
    }, what);

    public async Task<ExecutionRecord> GetAsync(string executionId) => (await _executions.GetAsync(executionId))!;

    public async ValueTask DisposeAsync()
    {
        await Dispatcher.StopAsync(CancellationToken.None);
        Dispatcher.Dispose();
        await Pools.DisposeAsync();
        await _executions.DisposeAsync();
        _callbacks.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
