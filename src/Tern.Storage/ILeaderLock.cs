namespace Tern.Storage;

/// <summary>Leadership among the daemons sharing a store, for work that one of them should do (the scheduler). A
/// store only this daemon uses (SQLite) makes it the leader always; Postgres holds a session-level advisory lock on a
/// connection of its own, so a leader that dies (its connection closes) frees the lock for the next daemon to try.</summary>
public interface ILeaderLock
{
    /// <summary>True when this daemon holds the lock now: it takes it if free, and checks that a lock it held is still
    /// held (its connection alive). Never throws for an unreachable store: that is "not the leader".</summary>
    ValueTask<bool> HoldAsync(CancellationToken ct);

    /// <summary>How long a daemon waits before asking again (the leader too: another daemon may have changed the shared
    /// state it acts on without being able to wake it).</summary>
    TimeSpan RecheckInterval { get; }
}

/// <summary>The only daemon on its store (SQLite) leads.</summary>
public sealed class SoleLeader : ILeaderLock
{
    public ValueTask<bool> HoldAsync(CancellationToken ct) => ValueTask.FromResult(true);

    public TimeSpan RecheckInterval => TimeSpan.FromMinutes(1);
}
