using Tern.Testing.FakeDriver;

namespace Tern.Pools.Tests.Unit;

/// <summary>maxReplicas, the wait for a slot, and the 429 (PoolExhaustedException) at the call's timeout, on the fake clock.</summary>
public sealed class CapacityTests
{
    [Fact]
    public async Task AtMaxReplicas_ACallWaits_ThenFailsExactlyAtItsTimeout()
    {
        await using var rig = new PoolRig();
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 10, MaxReplicas = 2, TimeoutMs = 1000 }));
        var held = await Task.WhenAll(pool.AcquireAsync(CancellationToken.None).AsTask(), pool.AcquireAsync(CancellationToken.None).AsTask());

        var third = pool.AcquireAsync(CancellationToken.None).AsTask();
        Assert.Equal(1, pool.WaitingCount);
        Assert.Equal(0, pool.StartingCount); // no third worker: maxReplicas

        rig.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(third.IsCompleted);
        rig.Time.Advance(TimeSpan.FromMilliseconds(1));

        var error = await Assert.ThrowsAsync<PoolExhaustedException>(() => third);
        Assert.Contains("maxReplicas 2", error.Message);
        Assert.Contains("waited 1000 ms", error.Message);
        Assert.False(error.QueueFull);
        Assert.Equal(2, rig.Driver.Starts);
        Assert.Equal(0, pool.WaitingCount);
        foreach (var lease in held) pool.Release(lease, healthy: true);
    }

    [Fact]
    public async Task AColdStartSlowerThanTheTimeout_IsWaitedFor_NotTurnedAwayAsAFullPool()
    {
        await using var rig = new PoolRig();
        rig.Driver.StartGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 10, MaxReplicas = 1, TimeoutMs = 1000 }));

        var first = pool.AcquireAsync(CancellationToken.None).AsTask(); // starts the only worker
        var second = pool.AcquireAsync(CancellationToken.None).AsTask(); // no start for it: maxReplicas 1
        rig.Time.Advance(TimeSpan.FromMilliseconds(1500)); // the start takes longer than the function's timeout

        await Assert.ThrowsAsync<PoolExhaustedException>(() => second); // waited for a busy pool: turned away
        Assert.False(first.IsCompleted); // waits for the worker being started for it
        rig.Driver.StartGate.SetResult();
        var lease = await first;
        Assert.True(lease.ColdStart);
        pool.Release(lease, healthy: true);
    }

    [Fact]
    public async Task AWaitingCall_GetsTheFirstSlotReleased_Warm()
    {
        await using var rig = new PoolRig();
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 10, MaxReplicas = 1, TimeoutMs = 1000 }));
        var first = await pool.AcquireAsync(CancellationToken.None);

        var second = pool.AcquireAsync(CancellationToken.None).AsTask();
        rig.Time.Advance(TimeSpan.FromMilliseconds(300));
        pool.Release(first, healthy: true);
        var lease = await second;

        Assert.Same(first.Worker, lease.Worker);
        Assert.False(lease.ColdStart);
        Assert.Equal(TimeSpan.FromMilliseconds(300), lease.Waited);
        rig.Time.Advance(TimeSpan.FromSeconds(5)); // the expiry timer finds nobody waiting
        Assert.Equal(1, rig.Driver.Starts);
    }

    [Fact]
    public async Task AtTheConcurrencyLimit_ACallWaits_EvenWithReplicasToSpare()
    {
        await using var rig = new PoolRig();
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 1, MaxReplicas = 5, TimeoutMs = 500 }));
        var held = await pool.AcquireAsync(CancellationToken.None);

        var second = pool.AcquireAsync(CancellationToken.None).AsTask();
        Assert.Equal(0, pool.StartingCount);
        rig.Time.Advance(TimeSpan.FromMilliseconds(500));

        var error = await Assert.ThrowsAsync<PoolExhaustedException>(() => second);
        Assert.Contains("concurrency limit 1", error.Message);
        pool.Release(held, healthy: true);
    }

    [Fact]
    public async Task BeyondTheQueue_ACallIsTurnedAwayAtOnce()
    {
        await using var rig = new PoolRig();
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 1, MaxReplicas = 1, QueueSize = 1 }));
        var held = await pool.AcquireAsync(CancellationToken.None);
        var waiting = pool.AcquireAsync(CancellationToken.None).AsTask();

        var error = Assert.Throws<PoolExhaustedException>(() => pool.AcquireAsync(CancellationToken.None));

        Assert.True(error.QueueFull);
        pool.Release(held, healthy: true);
        pool.Release(await waiting, healthy: true);
    }

    [Fact]
    public async Task ACancelledWaiter_LeavesTheQueue()
    {
        await using var rig = new PoolRig();
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 1, MaxReplicas = 1 }));
        var held = await pool.AcquireAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        var waiting = pool.AcquireAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, pool.WaitingCount);
        pool.Release(held, healthy: true);
    }
}
