using Tern.Testing.FakeDriver;

namespace Tern.Pools.Tests.Unit;

/// <summary>Concurrent cold calls start only the workers they need (WorkerPool over the fake driver).</summary>
public sealed class SingleflightTests
{
    [Fact]
    public async Task FiveConcurrentColdCalls_StartFiveWorkers_AllColdStarts()
    {
        await using var rig = new PoolRig();
        var gate = rig.Driver.StartGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 10, MaxReplicas = 10 }));

        var calls = Enumerable.Range(0, 5).Select(_ => pool.AcquireAsync(CancellationToken.None).AsTask()).ToList();
        Assert.Equal(5, pool.StartingCount); // reserved under the pool's lock, before any start finished
        gate.SetResult();
        var leases = await Task.WhenAll(calls);

        Assert.Equal(5, rig.Driver.Starts);
        Assert.All(leases, l => Assert.True(l.ColdStart));
        Assert.Equal(5, leases.Select(l => l.Worker).Distinct().Count());
    }

    [Fact]
    public async Task TenCallsWithInstanceConcurrencyFour_StartThreeWorkers()
    {
        await using var rig = new PoolRig();
        var gate = rig.Driver.StartGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 10, MaxReplicas = 10, InstanceConcurrency = 4 }));

        var calls = Enumerable.Range(0, 10).Select(_ => pool.AcquireAsync(CancellationToken.None).AsTask()).ToList();
        gate.SetResult();
        var leases = await Task.WhenAll(calls);

        Assert.Equal(3, rig.Driver.Starts); // ceil(10 / 4)
        Assert.Equal(new[] { 4, 4, 2 }, leases.GroupBy(l => l.Worker).Select(g => g.Count()).OrderDescending());
        // The one call each new worker started for is its cold start; calls that joined a started worker are warm.
        Assert.Equal(3, leases.Count(l => l.ColdStart));
    }

    [Fact]
    public async Task CallsAfterTheFirstWave_RunWarm_WithoutNewStarts()
    {
        await using var rig = new PoolRig();
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 10, MaxReplicas = 10 }));
        var first = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => pool.AcquireAsync(CancellationToken.None).AsTask()));
        foreach (var lease in first) pool.Release(lease, healthy: true);

        var second = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => pool.AcquireAsync(CancellationToken.None).AsTask()));

        Assert.Equal(3, rig.Driver.Starts);
        Assert.All(second, l => Assert.False(l.ColdStart));
        Assert.Equal(TimeSpan.Zero, second[0].Waited);
    }

    [Fact]
    public async Task AStartFailure_FailsTheLongestWaitingCall_AndTheOthersStartAgain()
    {
        await using var rig = new PoolRig();
        var gate = rig.Driver.StartGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failures = 1;
        rig.Driver.FailStart = _ => Interlocked.Decrement(ref failures) >= 0 ? new Tern.Drivers.WorkerStartException("no room") : null;
        var pool = rig.Pools.GetPool(PoolRig.Function(tweak: f => f with { Concurrency = 10, MaxReplicas = 1 }));

        var first = pool.AcquireAsync(CancellationToken.None).AsTask();
        var second = pool.AcquireAsync(CancellationToken.None).AsTask();
        gate.SetResult();

        var error = await Assert.ThrowsAsync<Tern.Drivers.WorkerStartException>(() => first);
        Assert.Equal("no room", error.Message);
        var lease = await second;
        Assert.True(lease.ColdStart);
        Assert.Equal(2, rig.Driver.Starts);
    }
}
