using Tern.Agent.Protocol;
using Tern.Core.Executions;
using Tern.Testing.FakeDriver;

namespace Tern.Invocation.Tests.Unit;

/// <summary>AsyncDispatcher retries: exponential backoff on the fake clock (jitter injected), then dead-lettering.</summary>
public sealed class RetryTests
{
    private static RespMessage Failure() => new() { Status = "error", Error = new AgentError { Code = "Boom", Message = "it broke" } };

    [Fact]
    public async Task AFailingCall_IsRetriedAfter1s2s4s_ThenDeadLettered()
    {
        await using var rig = new DispatcherRig(jitter: 0);
        rig.Driver.AnswerExec = _ => Failure();
        var function = await rig.CreateAsync("flaky", f => f with { MaxRetries = 3 });
        await rig.StartAsync();
        var t0 = rig.Clock.GetUtcNow();

        var id = await rig.EnqueueAsync(function);
        await rig.WaitForAsync(() => rig.Driver.Execs.Count == 1, "the first attempt");
        foreach (var (attempt, delay) in new[] { (2, 1), (3, 2), (4, 4) })
        {
            var failedAt = rig.Clock.GetUtcNow();
            var due = failedAt + TimeSpan.FromSeconds(delay);
            await rig.WaitForAsync(() => rig.Clock.HasTimerDueAt(due), $"attempt {attempt} to be scheduled for +{delay}s");
            var queued = await rig.GetAsync(id);
            Assert.Equal((ExecutionStatus.Queued, attempt, due), (queued.Status, queued.Attempt, queued.NotBefore));

            rig.Pools.Time.Advance(TimeSpan.FromSeconds(delay) - TimeSpan.FromMilliseconds(1));
            Assert.Equal(attempt - 1, rig.Driver.Execs.Count); // not a millisecond early
            rig.Pools.Time.Advance(TimeSpan.FromMilliseconds(1));
            await rig.WaitForAsync(() => rig.Driver.Execs.Count == attempt, $"attempt {attempt}");
        }

        await rig.WaitForAsync(async () => (await rig.GetAsync(id)).DeadLetter, "the dead letter");
        var dead = await rig.GetAsync(id);
        Assert.Equal((ExecutionStatus.Error, 4, "Boom"), (dead.Status, dead.Attempt, dead.Error!.Code));
        Assert.Equal(new[] { 0, 1, 3, 7 }, rig.Driver.Execs.Select(e => (int)(e.At - t0).TotalSeconds));
        rig.Pools.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(4, rig.Driver.Execs.Count); // nothing more runs
    }

    [Fact]
    public async Task Jitter_AddsItsFractionOfHalfTheDelay()
    {
        await using var rig = new DispatcherRig(jitter: 0.5); // + 0.5 * delay / 2
        rig.Driver.AnswerExec = _ => Failure();
        var function = await rig.CreateAsync("jittery", f => f with { MaxRetries = 1 });
        await rig.StartAsync();

        var id = await rig.EnqueueAsync(function);
        await rig.WaitForAsync(() => rig.Driver.Execs.Count == 1, "the first attempt");
        var due = rig.Driver.Execs[0].At + TimeSpan.FromMilliseconds(1250);
        await rig.WaitForAsync(() => rig.Clock.HasTimerDueAt(due), "the retry to be scheduled for +1.25s");
        rig.Pools.Time.Advance(TimeSpan.FromMilliseconds(1250));

        await rig.WaitForAsync(async () => (await rig.GetAsync(id)).DeadLetter, "the dead letter after one retry");
        Assert.Equal(TimeSpan.FromMilliseconds(1250), rig.Driver.Execs[1].At - rig.Driver.Execs[0].At);
    }

    [Fact]
    public async Task ACallThatSucceedsOnItsThirdAttempt_EndsSuccessful_NotDeadLettered()
    {
        await using var rig = new DispatcherRig();
        var failures = 2;
        rig.Driver.AnswerExec = exec => Interlocked.Decrement(ref failures) >= 0 ? Failure()
            : new RespMessage { Status = "success", Output = Tern.Json.RawJson.Parse("""{"ok":true}""") };
        var function = await rig.CreateAsync("recovers", f => f with { MaxRetries = 3 });
        await rig.StartAsync();

        var id = await rig.EnqueueAsync(function);
        foreach (var delay in new[] { 1, 2 })
        {
            await rig.WaitForAsync(() => rig.Clock.HasTimerDueAt(rig.Clock.GetUtcNow() + TimeSpan.FromSeconds(delay)), $"a retry in {delay}s");
            rig.Pools.Time.Advance(TimeSpan.FromSeconds(delay));
        }

        await rig.WaitForAsync(async () => (await rig.GetAsync(id)).Status == ExecutionStatus.Success, "success");
        var done = await rig.GetAsync(id);
        Assert.Equal((3, false, """{"ok":true}"""), (done.Attempt, done.DeadLetter, done.Output.ToString()));
    }

    [Fact]
    public async Task AWorkerThatCannotStart_CountsAsAFailedAttempt()
    {
        await using var rig = new DispatcherRig();
        rig.Driver.FailStart = _ => new Tern.Drivers.WorkerStartException("no sandbox today");
        var function = await rig.CreateAsync("nostart", f => f with { MaxRetries = 0 });
        await rig.StartAsync();

        var id = await rig.EnqueueAsync(function);

        await rig.WaitForAsync(async () => (await rig.GetAsync(id)).DeadLetter, "the dead letter");
        var dead = await rig.GetAsync(id);
        Assert.Equal(("WorkerStartFailed", 1), (dead.Error!.Code, dead.Attempt));
    }
}
