using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Tern.Testing;

/// <summary>The clock of a FakeTimeProvider, remembering when each timer made on it is due. A test that advances the
/// clock must know the code under test has armed its timer first (else the timer is armed after the advance and fires
/// late): <see cref="HasTimerDueAt"/> tells it, without sleeping.</summary>
public sealed class WatchedTimeProvider(FakeTimeProvider inner) : TimeProvider
{
    private readonly ConcurrentQueue<DateTimeOffset> _dueTimes = new();

    public FakeTimeProvider Inner { get; } = inner;

    public override DateTimeOffset GetUtcNow() => Inner.GetUtcNow();
    public override long GetTimestamp() => Inner.GetTimestamp();
    public override long TimestampFrequency => Inner.TimestampFrequency;
    public override TimeZoneInfo LocalTimeZone => Inner.LocalTimeZone;

    /// <summary>Whether a timer was armed (made or changed) to fire at exactly <paramref name="at"/>.</summary>
    public bool HasTimerDueAt(DateTimeOffset at) => _dueTimes.Contains(at);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new WatchedTimer(this, Inner.CreateTimer(callback, state, dueTime, period));
        Armed(dueTime);
        return timer;
    }

    private void Armed(TimeSpan dueTime)
    {
        if (dueTime != Timeout.InfiniteTimeSpan) _dueTimes.Enqueue(Inner.GetUtcNow() + dueTime);
    }

    private sealed class WatchedTimer(WatchedTimeProvider owner, ITimer inner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = inner.Change(dueTime, period);
            owner.Armed(dueTime);
            return changed;
        }

        public void Dispose() => inner.Dispose();
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
