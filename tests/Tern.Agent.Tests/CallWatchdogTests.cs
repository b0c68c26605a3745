using System.Collections.Concurrent;
using Tern.Agent.Persistent;
using Tern.Agent.Protocol;

namespace Tern.Agent.Tests;

public sealed class CallWatchdogTests
{
    private static PersistentCall Call(string id, int timeoutMs) => new(new ExecMessage { RequestId = id }, timeoutMs, ReadOnlyMemory<byte>.Empty);

    [Fact]
    public async Task Expired_CallsPastTheirDeadline_InDeadlineOrder_AndRemovedOnesNever()
    {
        var expired = new ConcurrentQueue<string>();
        var watchdog = new CallWatchdog(c => expired.Enqueue(c.RequestId));
        try
        {
            var slow = Call("slow", 400);
            var removed = Call("removed", 100);
            watchdog.Add(slow);
            watchdog.Add(Call("fast", 100)); // earlier than the one the thread sleeps until: it must wake for it
            watchdog.Add(removed);
            watchdog.Remove(removed);

            await WaitUntil(() => expired.Count >= 2, TimeSpan.FromSeconds(5));
            Assert.Equal(["fast", "slow"], expired);
        }
        finally
        {
            watchdog.Stop();
        }
    }

    [Fact]
    public async Task Expired_NotBeforeTheDeadline()
    {
        // When it fired, not whether it has fired after some sleep: a loaded machine may oversleep any test delay.
        var firedAt = new ConcurrentQueue<long>();
        var watchdog = new CallWatchdog(_ => firedAt.Enqueue(Environment.TickCount64));
        try
        {
            var call = Call("later", 300);
            watchdog.Add(call);
            await WaitUntil(() => !firedAt.IsEmpty, TimeSpan.FromSeconds(5));
            Assert.True(firedAt.Single() >= call.DeadlineTicks, $"fired {call.DeadlineTicks - firedAt.Single()} ms before its deadline");
        }
        finally
        {
            watchdog.Stop();
        }
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(10);
        }
    }
}
