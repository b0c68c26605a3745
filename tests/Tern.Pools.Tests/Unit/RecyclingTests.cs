using Microsoft.Extensions.Logging.Abstractions;
using Tern.Agent.Protocol;
using Tern.Drivers;
using Tern.Json;
using Tern.Testing;
using Tern.Testing.FakeDriver;

namespace Tern.Pools.Tests.Unit;

/// <summary>When workers are replaced: after a call left them in doubt, when they crash, and when the code changes.
/// (The pool has no recycling after N calls.)</summary>
public sealed class RecyclingTests
{
    private static readonly RawJson Event = RawJson.FromTrusted("""{"n":1}"""u8.ToArray());

    [Fact]
    public async Task AnExec_RunsOverTheRealProtocol_OnTheFakeClock()
    {
        await using var rig = new PoolRig();
        rig.Driver.ExecLatency = TimeSpan.FromSeconds(2);
        var pool = rig.Pools.GetPool(PoolRig.Function());
        var lease = await pool.AcquireAsync(CancellationToken.None);

        var exec = lease.Worker.Agent.ExecAsync(new ExecMessage { RequestId = "r1", Input = Event, TimeoutMs = 30_000 },
            TimeSpan.FromSeconds(30), CancellationToken.None);
        await Eventually.TrueAsync(() => rig.Driver.Execs.Count == 1, "the exec to reach the agent");
        Assert.False(exec.IsCompleted);
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        var resp = await exec;

        Assert.Equal("success", resp.Status);
        Assert.Equal("""{"n":1}""", resp.Output!.Value.ToString());
        Assert.Equal("fn", rig.Driver.Workers[0].Init!.FunctionName);
        pool.Release(lease, healthy: true);
    }

    [Fact]
    public async Task AnUnhealthyRelease_StopsTheWorker_AndTheNextCallStartsAnother()
    {
        await using var rig = new PoolRig();
        var pool = rig.Pools.GetPool(PoolRig.Function());
        var first = await pool.AcquireAsync(CancellationToken.None);

        pool.Release(first, healthy: false); // what FunctionInvoker does after a timeout or a crash
        await Eventually.TrueAsync(() => rig.Driver.Stops == 1, "the worker to stop");
        var second = await pool.AcquireAsync(CancellationToken.None);

        Assert.True(second.ColdStart);
        Assert.NotSame(first.Worker, second.Worker);
        Assert.Equal(2, rig.Driver.Starts);
        pool.Release(second, healthy: true);
    }

    [Fact]
    public async Task AWorkerThatCrashesMidCall_FailsTheCall_AndIsNotReused()
    {
        await using var rig = new PoolRig();
        rig.Driver.AnswerExec = _ => null; // the handler's process dies
        var pool = rig.Pools.GetPool(PoolRig.Function());
        var lease = await pool.AcquireAsync(CancellationToken.None);

        await Assert.ThrowsAsync<AgentLostException>(() => lease.Worker.Agent.ExecAsync(
            new ExecMessage { RequestId = "r1", Input = Event, TimeoutMs = 1000 }, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.True(lease.Worker.IsDead);
        pool.Release(lease, healthy: true); // even reported healthy, a dead worker is not kept

        await Eventually.TrueAsync(() => rig.Driver.Stops == 1, "the dead worker to be disposed");
        Assert.Equal(0, pool.WorkerCount);
    }

    [Fact]
    public async Task AnIdleWorkerThatDied_DoesNotCountAgainstMaxReplicas_TheNextCallStartsAnother()
    {
        await using var rig = new PoolRig();
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { MaxReplicas = 1 }));
        var first = await pool.AcquireAsync(CancellationToken.None);
        pool.Release(first, healthy: true);
        rig.Driver.Workers[0].Crash(); // e.g. its pod deleted while it was idle
        await rig.Driver.Workers[0].Exited;

        // Not yet evicted by maintenance, the dead worker must not fill the only replica: without a start the call would
        // wait for its whole timeout and be turned away.
        var second = await pool.AcquireAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(second.ColdStart);
        Assert.NotSame(first.Worker, second.Worker);
        pool.Release(second, healthy: true);
    }

    [Fact]
    public async Task AWorkerThatEndedAsItStarted_FailsTheWaitingCallWithWhy_AndTheNextCallGetsAFreshOne()
    {
        await using var rig = new PoolRig();
        var function = PoolRig.Function(tweak: f => f with { MaxReplicas = 1 });
        var starts = 0;
        var pool = new WorkerPool(function, async ct =>
        {
            var worker = (FakeWorker)await rig.Driver.StartWorkerAsync(new WorkerSpec
            {
                WorkerId = Guid.NewGuid().ToString("N"), FunctionName = function.Name, Code = null,
            }, ct);
            var agent = new AgentClient(worker.Stream, 1 << 20);
            if (Interlocked.Increment(ref starts) == 1)
            {
                // Its Init went well, then the pod went (deleted by someone, as a Kubernetes worker's can be).
                worker.Diagnostics = new WorkerDiagnostics(OutOfMemory: false, ExitCode: null, StderrTail: "pod fn-1 was deleted");
                worker.Crash();
                await worker.Exited;
            }
            return new PooledWorker(worker, agent, rig.Time.GetUtcNow());
        }, rig.Time, NullLogger.Instance);

        var failed = await Assert.ThrowsAsync<WorkerStartException>(() => pool.AcquireAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("the worker for 'fn' ended as it started: pod fn-1 was deleted", failed.Message);
        Assert.Equal(0, pool.WorkerCount);
        await Eventually.TrueAsync(() => rig.Driver.Stops == 1, "the dead worker to be disposed");

        var next = await pool.AcquireAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(next.ColdStart);
        Assert.Equal(2, starts);
        pool.Release(next, healthy: true);
        await pool.CloseAsync();
    }

    [Fact]
    public async Task NewCode_GetsNewWorkers_AndTheOldVersionsWorkersStopOnceIdle()
    {
        await using var rig = new PoolRig();
        var v1 = PoolRig.Function();
        var oldPool = rig.Pools.GetPool(v1);
        var running = await oldPool.AcquireAsync(CancellationToken.None); // a call still running on v1

        var v2 = v1 with { Revision = 2, CodeHash = new string('b', 64) };
        rig.Pools.OnFunctionChanged(v2.Name, v2);
        var newPool = rig.Pools.GetPool(v2);
        Assert.NotSame(oldPool, newPool);
        Assert.True(oldPool.Retiring);

        await rig.Pools.MaintainAsync(ping: false);
        Assert.Equal(1, oldPool.WorkerCount); // busy: left to finish its call
        oldPool.Release(running, healthy: true);
        await rig.Pools.MaintainAsync(ping: false);
        Assert.Equal(1, rig.Driver.Stops);
        Assert.DoesNotContain(oldPool, rig.Pools.Pools); // drained and dropped

        var lease = await newPool.AcquireAsync(CancellationToken.None);
        Assert.True(lease.ColdStart);
        Assert.Equal(2, rig.Driver.Workers[1].Init!.Revision);
        Assert.Equal(new string('b', 64), rig.Driver.Workers[1].Code!.Hash); // the new code, by reference
        newPool.Release(lease, healthy: true);
    }

    [Fact]
    public async Task AHandlerThatFailsToLoad_IsReportedAsSuch_AndItsWorkerStopped()
    {
        await using var rig = new PoolRig();
        rig.Driver.AnswerInit = _ => new RespMessage { Status = "error", Error = new AgentError { Code = "ImportError", Message = "no module x" } };
        var pool = rig.Pools.GetPool(PoolRig.Function());

        var error = await Assert.ThrowsAsync<HandlerInitException>(() => pool.AcquireAsync(CancellationToken.None).AsTask());

        Assert.Equal("ImportError", error.Code);
        Assert.Equal(1, rig.Driver.Stops);
        Assert.Equal(0, pool.WorkerCount);
    }
}
