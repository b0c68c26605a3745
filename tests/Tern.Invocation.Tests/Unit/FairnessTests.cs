
namespace Tern.Invocation.Tests.Unit;

/// <summary>AsyncDispatcher fairness: a function with a backlog does not hold back another function's calls.</summary>
public sealed class FairnessTests
{
    [Fact]
    public async Task AQuietFunctionsCall_RunsAtOnce_BehindABusyFunctionsBacklog()
    {
        await using var rig = new DispatcherRig();
        rig.Driver.ExecLatency = TimeSpan.FromSeconds(1);
        var busy = await rig.CreateAsync("busy", f => f with { Concurrency = 2 });
        var quiet = await rig.CreateAsync("quiet", f => f with { Concurrency = 1 });
        await rig.StartAsync();
        var t0 = rig.Clock.GetUtcNow();

        for (var i = 0; i < 10; i++) await rig.EnqueueAsync(busy);
        var quietId = await rig.EnqueueAsync(quiet);

        await rig.WaitForAsync(() => rig.Driver.Execs.Count == 3, "two busy calls and the quiet one");
        Assert.Equal(8, rig.Dispatcher.Depth("busy"));
        Assert.Equal(0, rig.Dispatcher.Depth("quiet"));
        Assert.Contains(rig.Driver.Execs, e => e.RequestId == quietId && e.At == t0);
    }

    [Fact]
    public async Task TwoBacklogs_Advance_OneCallEachPerTurn()
    {
        await using var rig = new DispatcherRig();
        rig.Driver.ExecLatency = TimeSpan.FromSeconds(1);
        var a = await rig.CreateAsync("a", f => f with { Concurrency = 1 });
        var b = await rig.CreateAsync("b", f => f with { Concurrency = 1 });
        await rig.StartAsync();
        var ids = new Dictionary<string, string>();
        for (var i = 0; i < 5; i++) ids[await rig.EnqueueAsync(a)] = "a";
        for (var i = 0; i < 5; i++) ids[await rig.EnqueueAsync(b)] = "b";

        for (var second = 1; second <= 5; second++)
        {
            await rig.WaitForAsync(() => rig.Driver.Execs.Count == 2 * second, $"both functions' call #{second}");
            rig.Pools.Time.Advance(TimeSpan.FromSeconds(1));
        }

        // Each second one call of each function ran: neither waited for the other's backlog.
        var perSecond = rig.Driver.Execs.GroupBy(e => e.At).Select(g => string.Concat(g.Select(e => ids[e.RequestId]).Order()));
        Assert.Equal(Enumerable.Repeat("ab", 5), perSecond);
    }
}
