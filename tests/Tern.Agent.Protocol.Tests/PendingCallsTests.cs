namespace Tern.Agent.Protocol.Tests;

/// <summary>The shared sweeper that fails calls past their deadline.</summary>
public sealed class PendingCallsTests
{
    [Fact]
    public async Task ASweepWhoseCallerRunsLong_IsNotOverlappedByTheNext_AndEveryLateCallStillTimesOut()
    {
        // Timer callbacks overlap when one runs longer than the interval. Two sweeps shared one list, so an overlapping
        // sweep could change the list the first was walking, and the exception on the timer thread crashed the process
        // (seen once in a full test run). Sweeps now never overlap and keep their lists to themselves: a caller whose
        // continuation runs inline for 5 intervals holds up the sweeper, and the call that expired meanwhile still fails.
        using var calls = new PendingCalls();
        var slow = calls.Add("slow", TimeSpan.FromMilliseconds(1));
        var late = calls.Add("late", PendingCalls.SweepInterval);
        var lateFailed = late.Task.ContinueWith(t => t.Exception?.InnerException, TaskContinuationOptions.ExecuteSynchronously);
        var slowFailed = slow.Task.ContinueWith(t =>
        {
            Thread.Sleep(PendingCalls.SweepInterval * 5); // the caller's work, inline on the sweeper's thread
            return t.Exception?.InnerException;
        }, TaskContinuationOptions.ExecuteSynchronously);

        Assert.IsType<TimeoutException>(await slowFailed.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.IsType<TimeoutException>(await lateFailed.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
