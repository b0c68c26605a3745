using Tern.Agent.Protocol;
using Tern.Drivers;
using Tern.Pools.Lanes;

namespace Tern.Pools;

/// <summary>A started, initialised worker and its agent connection, with the slot accounting its pool does under its lock.</summary>
public sealed class PooledWorker(IWorker worker, AgentClient agent, DateTimeOffset now, HandlerLane? lane = null) : IAsyncDisposable
{
    public IWorker Worker { get; } = worker;
    public AgentClient Agent { get; } = agent;

    /// <summary>Set when the agent handed the persistent handler's pipes over: calls go straight to the handler.</summary>
    public HandlerLane? Lane { get; } = lane;

    /// <summary>Runs one call on the worker: over the lane when there is one, else through the agent.</summary>
    public Task<RespMessage> ExecAsync(ExecMessage exec, TimeSpan timeout, CancellationToken ct) =>
        Lane is { } lane ? lane.ExecAsync(exec, ct) : Agent.ExecAsync(exec, timeout, ct);

    /// <summary>Calls running on this worker now. Changed only under the pool's lock.</summary>
    internal int InFlight { get; set; }

    /// <summary>Set once the worker must take no new calls; it is stopped when its last call ends.</summary>
    internal bool Retired { get; set; }

    internal DateTimeOffset LastUsed { get; set; } = now;

    /// <summary>Started and not yet given a call: the first call it gets is a cold start.</summary>
    internal bool Fresh { get; set; }

    /// <summary>The connection or the worker is gone: never hand it out again.</summary>
    public bool IsDead => Agent.Completion.IsCompleted || Worker.Exited.IsCompleted || Lane is { IsBroken: true };

    /// <summary>What the driver knows of the worker's state (an OOM kill, the end of its stderr), after a failed call.</summary>
    public ValueTask<WorkerDiagnostics> DiagnoseAsync() => Worker.DiagnoseAsync();

    public async ValueTask DisposeAsync()
    {
        Lane?.Close();
        await Agent.DisposeAsync().ConfigureAwait(false);
        await Worker.DisposeAsync().ConfigureAwait(false);
        Lane?.Dispose(); // after the worker is gone: nothing can be blocked on its pipes any more
    }
}
