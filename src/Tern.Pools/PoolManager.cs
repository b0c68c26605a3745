using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Core.Code;
using Tern.Core.Functions;
using Tern.Core.Telemetry;
using Tern.Drivers;
using Tern.Pools.Lanes;
using Tern.Storage;
using Tern.Storage.Secrets;

namespace Tern.Pools;

/// <summary>One pool per function, for its current version (so new code or settings mean new workers); pools of
/// replaced versions drain and are dropped. Knows how to start and initialise a worker for a function.</summary>
public sealed partial class PoolManager : IFunctionObserver
{
    private readonly DriverRegistry drivers;
    private readonly WorkerTemplates templates;
    private readonly IOptions<PoolOptions> options;
    private readonly TimeProvider time;
    private readonly ILogger<PoolManager> logger;
    private readonly ISecretResolver secrets;
    private readonly TernMetrics metrics;
    private readonly IOptions<HandlerOptions>? handlerOptions;
    private readonly ICodeSource? codeSource;

    // Internal: its collaborators are internal to the layer, so the layer's registration builds it (DI needs a public
    // constructor); the fields keep the parameters' names so the members read as they did with a primary constructor.
    internal PoolManager(
        DriverRegistry drivers, WorkerTemplates templates, IOptions<PoolOptions> options, TimeProvider time, ILogger<PoolManager> logger, ISecretResolver secrets, TernMetrics metrics, IOptions<HandlerOptions>? handlerOptions = null, ICodeSource? codeSource = null)
    {
        this.drivers = drivers;
        this.templates = templates;
        this.options = options;
        this.time = time;
        this.logger = logger;
        this.secrets = secrets;
        this.metrics = metrics;
        this.handlerOptions = handlerOptions;
        this.codeSource = codeSource;
    }

    private readonly ConcurrentDictionary<string, WorkerPool> _current = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<WorkerPool, byte> _retiring = new();
    private readonly Lock _lock = new();

    public PoolOptions Options => options.Value;

    /// <summary>The pool for this exact definition; an older version's pool is retired. <paramref name="key"/> defaults to
    /// the function's name; a published version passes its own ("name@v3") so it has workers of its own, and its
    /// <paramref name="version"/> ("3"), which its workers' handlers are told ($LATEST otherwise). The key already
    /// tells versions apart, so the version never splits a pool further: warm reuse is as before.</summary>
    public WorkerPool GetPool(FunctionDefinition function, string? key = null, string version = Qualifiers.Latest)
    {
        key ??= function.Name;
        if (_current.TryGetValue(key, out var pool) && pool.Function.Revision == function.Revision) return pool;
        lock (_lock)
        {
            if (_current.TryGetValue(key, out pool) && pool.Function.Revision >= function.Revision) return pool;
            var fresh = new WorkerPool(function, ct => StartWorkerAsync(function, version, ct), time, logger, metrics);
            if (pool is not null) Retire(pool);
            _current[key] = fresh;
            return fresh;
        }
    }

    public IReadOnlyCollection<WorkerPool> Pools => [.. _current.Values, .. _retiring.Keys];

    public void OnFunctionChanged(string name, FunctionDefinition? current)
    {
        if (current is null)
        {
            lock (_lock)
            {
                if (_current.TryRemove(name, out var gone)) Retire(gone);
                foreach (var key in _current.Keys.Where(k => k.StartsWith(name + "@", StringComparison.Ordinal)))
                    if (_current.TryRemove(key, out var version)) Retire(version); // published versions' pools ('@' is not in names)
            }
            return;
        }
        var pool = GetPool(current);
        if (current.MinReplicas > 0) _ = pool.MaintainAsync(Options); // prewarm now, not at the next maintenance tick
    }

    /// <summary>Evicts, prewarms and drops drained pools. Run every second by the maintenance service.</summary>
    public async Task MaintainAsync(bool ping)
    {
        foreach (var pool in Pools)
        {
            if (ping) await pool.PingIdleAsync(Options).ConfigureAwait(false);
            else await pool.MaintainAsync(Options).ConfigureAwait(false);
        }
        foreach (var pool in _retiring.Keys.Where(p => p.IsEmpty)) _retiring.TryRemove(pool, out _);
    }

    public async Task CloseAllAsync()
    {
        await Task.WhenAll(Pools.Select(p => p.CloseAsync())).ConfigureAwait(false);
        _current.Clear();
        _retiring.Clear();
    }

    private void Retire(WorkerPool pool)
    {
        pool.Retire();
        _retiring[pool] = 0;
    }

    private async Task<PooledWorker> StartWorkerAsync(FunctionDefinition f, string version, CancellationToken ct)
    {
        var env = await ResolveEnvAsync(f, ct).ConfigureAwait(false); // before any sandbox starts: a missing secret fails fast
        var code = new CodeRef(f.CodeHash, f.CodeFileName);
        var limits = new WorkerLimits(f.MemoryMb, f.Vcpus);
        if (codeSource is not null) await codeSource.EnsureLocalAsync(code, ct).ConfigureAwait(false); // drivers read it synchronously
        // Spares are started with no network: only a function with none may take one; an egress worker starts with its
        // network (and filter) in place from the first instruction.
        var worker = (f.Network.IsEgress ? null : await TakeTemplateAsync(f, code, limits, ct).ConfigureAwait(false))
            ?? await drivers.Get(f.Isolation).StartWorkerAsync(new WorkerSpec
            {
                WorkerId = Guid.CreateVersion7().ToString("N"), FunctionName = f.Name, Code = code, Limits = limits,
                Network = f.Network, Runtime = f.Runtime, Style = f.Kubernetes?.Style,
            }, ct).ConfigureAwait(false);
        var agent = new AgentClient(worker.Stream, Options.MaxMessageBytes);
        try
        {
            var init = InitFor(f, version, env);
            init.Handoff = f.Mode == "persistent" && worker is IHandoffWorker && (handlerOptions?.Value.Handoff ?? true);
            var resp = await agent.InitAsync(init, Options.InitTimeout, ct).ConfigureAwait(false);
            if (resp.Status != "success")
                throw new HandlerInitException(resp.Error?.Code ?? "HandlerLoadFailed", resp.Error?.Message ?? "the handler could not be loaded");
            var lane = resp.Handoff == true ? await TakeLaneAsync((IHandoffWorker)worker, init, agent, ct).ConfigureAwait(false) : null;
            LogStarted(f.Name, f.Revision, worker.Id);
            metrics.WorkersStarted.Add(1, TernMetrics.Function(f.Name), TernMetrics.Isolation(f.Isolation));
            if (lane is not null) metrics.WorkersHandedOff.Add(1, TernMetrics.Function(f.Name), TernMetrics.Isolation(f.Isolation));
            return new PooledWorker(worker, agent, time.GetUtcNow(), lane);
        }
        catch (Exception e) when (e is not HandlerInitException)
        {
            await DisposeQuietlyAsync(agent, worker).ConfigureAwait(false);
            var diagnostics = await worker.DiagnoseAsync().ConfigureAwait(false);
            throw e is AgentLostException or TimeoutException
                ? new WorkerStartException($"the worker for '{f.Name}' did not initialise: {e.Message} {diagnostics.StderrTail}".TrimEnd(), e)
                : e;
        }
        catch
        {
            await DisposeQuietlyAsync(agent, worker).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The handler's pipes, which the agent said it handed over, as a lane the calls take.</summary>
    private async Task<HandlerLane> TakeLaneAsync(IHandoffWorker worker, InitMessage init, AgentClient agent, CancellationToken ct)
    {
        int[] pipes;
        try
        {
            pipes = await worker.ReceiveHandlerPipesAsync(Options.InitTimeout, ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new WorkerStartException($"the worker for '{init.FunctionName}' did not hand over its handler: {e.Message}", e);
        }
        return new HandlerLane(pipes, init, agent, Options.MaxMessageBytes);
    }

    /// <summary>A spare worker given this function's code and limits, or null (none ready, or it would not take them).</summary>
    private async Task<IWorker?> TakeTemplateAsync(FunctionDefinition f, CodeRef code, WorkerLimits limits, CancellationToken ct)
    {
        if (await templates.TryTakeAsync(f.Isolation).ConfigureAwait(false) is not { } spare) return null;
        try
        {
            await spare.AssignAsync(code, limits, ct).ConfigureAwait(false);
            return spare;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or WorkerStartException or OperationCanceledException)
        {
            LogTemplateRefused(e, f.Name);
            await spare.DisposeAsync().ConfigureAwait(false);
            return null;
        }
    }

    private static async Task DisposeQuietlyAsync(AgentClient agent, IWorker worker)
    {
        await agent.DisposeAsync().ConfigureAwait(false);
        await worker.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The function's env with each value that is exactly <c>$SECRET:name</c> replaced by the secret's value
    /// (only in the Init message to the worker; the stored definition keeps the reference).</summary>
    private async Task<Dictionary<string, string>> ResolveEnvAsync(FunctionDefinition f, CancellationToken ct)
    {
        var env = new Dictionary<string, string>(f.Env);
        foreach (var (key, value) in f.Env)
        {
            if (SecretRules.ReferencedName(value) is not { } secret) continue;
            var lookup = await secrets.ResolveAsync(secret, f.Name, ct).ConfigureAwait(false);
            env[key] = lookup.Status switch
            {
                SecretLookupStatus.Found => lookup.Value!,
                SecretLookupStatus.NotGranted => throw new HandlerInitException("SecretNotGranted",
                    $"env {key} refers to secret '{secret}', which is not granted to function '{f.Name}' (tern secret scope {secret} --functions ...)"),
                _ => throw new HandlerInitException("SecretNotFound", $"env {key} refers to secret '{secret}', which does not exist"),
            };
        }
        return env;
    }

    private InitMessage InitFor(FunctionDefinition f, string version, Dictionary<string, string> env) => new()
    {
        Runtime = f.Runtime, Handler = f.Handler, Env = env, Mode = f.Mode, FunctionName = f.Name,
        Version = version, Revision = f.Revision, Region = handlerOptions?.Value.AwsRegion ?? HandlerOptions.DefaultRegion, MemoryMb = f.MemoryMb, TimeoutMs = f.TimeoutMs, InstanceConcurrency = f.InstanceConcurrency,
        MaxMessageBytes = Options.MaxMessageBytes,
    };

    [LoggerMessage(EventId = 311, Level = LogLevel.Warning, Message = "a spare worker could not take on {Function}; starting a fresh one")]
    private partial void LogTemplateRefused(Exception e, string function);

    [LoggerMessage(EventId = 310, Level = LogLevel.Debug, Message = "worker {WorkerId} for {Function} revision {Revision} is ready")]
    private partial void LogStarted(string function, int revision, string workerId);
}
