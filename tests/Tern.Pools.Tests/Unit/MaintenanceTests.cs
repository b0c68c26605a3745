using Tern.Testing;
using Tern.Testing.FakeDriver;

namespace Tern.Pools.Tests.Unit;

/// <summary>What the maintenance loop does (PoolManager.MaintainAsync, as PoolMaintenanceService calls it each tick):
/// idle TTL, minReplicas, pings.</summary>
public sealed class MaintenanceTests
{
    [Fact]
    public async Task AnIdleWorker_StopsWhenItsIdleTtlHasPassed_NotBefore()
    {
        await using var rig = new PoolRig(o => o.IdleTtl = TimeSpan.FromSeconds(60));
        var pool = rig.Pools.GetPool(PoolRig.Function());
        pool.Release(await pool.AcquireAsync(CancellationToken.None), healthy: true);

        rig.Time.Advance(TimeSpan.FromSeconds(59));
        await rig.Pools.MaintainAsync(ping: false);
        Assert.Equal(1, pool.WorkerCount);

        rig.Time.Advance(TimeSpan.FromSeconds(1));
        await rig.Pools.MaintainAsync(ping: false);
        Assert.Equal(0, pool.WorkerCount);
        Assert.Equal(1, rig.Driver.Stops);
        Assert.True(rig.Driver.Workers[0].Stopped);
    }

    [Fact]
    public async Task AWorkerInUse_IsNotExpired_AndItsTtlCountsFromItsLastCall()
    {
        await using var rig = new PoolRig(o => o.IdleTtl = TimeSpan.FromSeconds(60));
        var pool = rig.Pools.GetPool(PoolRig.Function());
        var lease = await pool.AcquireAsync(CancellationToken.None);

        rig.Time.Advance(TimeSpan.FromMinutes(5));
        await rig.Pools.MaintainAsync(ping: false);
        Assert.Equal(1, pool.WorkerCount);

        pool.Release(lease, healthy: true);
        rig.Time.Advance(TimeSpan.FromSeconds(30));
        await rig.Pools.MaintainAsync(ping: false);
        Assert.Equal(1, pool.WorkerCount);
        Assert.Equal(0, rig.Driver.Stops);
    }

    [Fact]
    public async Task MinReplicas_ArePrewarmed_AndOutliveTheIdleTtl()
    {
        await using var rig = new PoolRig(o => o.IdleTtl = TimeSpan.FromSeconds(60));
        var function = PoolRig.Function(tweak: f => f with { MinReplicas = 2, Concurrency = 10 });
        rig.Pools.OnFunctionChanged(function.Name, function); // what registering the function does
        var pool = rig.Pools.GetPool(function);
        await Eventually.TrueAsync(() => pool.WorkerCount == 2, "two prewarmed workers");

        // A burst adds a third; once idle past the TTL it goes, the two prewarmed ones stay.
        var burst = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => pool.AcquireAsync(CancellationToken.None).AsTask()));
        Assert.Single(burst, l => l.ColdStart);
        foreach (var lease in burst) pool.Release(lease, healthy: true);
        rig.Time.Advance(TimeSpan.FromMinutes(10));
        await rig.Pools.MaintainAsync(ping: false);

        Assert.Equal(2, pool.WorkerCount);
        Assert.Equal(3, rig.Driver.Starts);
        Assert.Equal(1, rig.Driver.Stops);
    }

    [Fact]
    public async Task APing_ReachesEveryIdleWorker_AndAnsweredOnesStay()
    {
        await using var rig = new PoolRig();
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 10 }));
        var leases = await Task.WhenAll(pool.AcquireAsync(CancellationToken.None).AsTask(), pool.AcquireAsync(CancellationToken.None).AsTask());
        pool.Release(leases[0], healthy: true); // idle: pinged
        // leases[1] stays busy: not pinged

        await rig.Pools.MaintainAsync(ping: true);

        var idle = rig.Driver.Workers.Single(w => w.Id == leases[0].Worker.Worker.Id);
        var busy = rig.Driver.Workers.Single(w => w.Id == leases[1].Worker.Worker.Id);
        Assert.Equal(1, idle.PingCount);
        Assert.Equal(0, busy.PingCount);
        Assert.Equal(2, pool.WorkerCount);
        pool.Release(leases[1], healthy: true);
    }

    [Fact]
    public async Task AWorkerThatDoesNotAnswerItsPing_IsStoppedAndReplaced()
    {
        // The ping's timeout is the agent client's own (real-time, swept every 100 ms): the one wait in these tests.
        await using var rig = new PoolRig(o => o.PingTimeout = TimeSpan.FromMilliseconds(1));
        var function = PoolRig.Function(tweak: f => f with { MinReplicas = 1 });
        rig.Pools.OnFunctionChanged(function.Name, function);
        var pool = rig.Pools.GetPool(function);
        await Eventually.TrueAsync(() => pool.WorkerCount == 1, "the prewarmed worker");
        var hung = rig.Driver.Workers[0];
        hung.HangPings = true;

        await rig.Pools.MaintainAsync(ping: true);

        Assert.True(hung.Stopped);
        Assert.Equal(1, rig.Driver.Stops);
        await Eventually.TrueAsync(() => pool.WorkerCount == 1 && rig.Driver.Starts == 2, "a replacement worker");
        var lease = await pool.AcquireAsync(CancellationToken.None);
        Assert.NotEqual(hung.Id, lease.Worker.Worker.Id);
        pool.Release(lease, healthy: true);
    }

    [Fact]
    public async Task ADeadIdleWorker_IsRemovedAtTheNextTick()
    {
        await using var rig = new PoolRig();
        var pool = rig.Pools.GetPool(PoolRig.Function());
        pool.Release(await pool.AcquireAsync(CancellationToken.None), healthy: true);
        var worker = rig.Driver.Workers[0];

        worker.Crash();
        await worker.Exited;
        await rig.Pools.MaintainAsync(ping: false);

        Assert.Equal(0, pool.WorkerCount);
        Assert.True(worker.Stopped); // the pool still disposes what is left of it
    }
}
