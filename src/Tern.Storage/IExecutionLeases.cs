using Tern.Core.Executions;

namespace Tern.Storage;

/// <summary>Async calls claimed by one daemon of several sharing a store (Postgres): each claim is a lease that the
/// claimant renews while it runs the call; a call whose lease ran out (its daemon died) can be claimed again, so
/// every accepted call runs. Times are passed in, so the caller's clock (a TimeProvider) decides.</summary>
public interface IExecutionLeases
{
    /// <summary>Claims up to <paramref name="limit"/> async calls that are due (queued, or running with an expired or no
    /// lease; NotBefore reached) and held by no one else, oldest first, leasing them to <paramref name="owner"/> until
    /// <paramref name="leaseUntil"/>. Concurrent claimants never get the same call (rows locked by another claim are
    /// skipped, not waited for). Calls of the functions in <paramref name="skipFunctions"/> are left for others (the
    /// claimant has enough of theirs waiting already).</summary>
    Task<IReadOnlyList<ExecutionRecord>> ClaimAsync(string owner, int limit, DateTimeOffset now, DateTimeOffset leaseUntil,
        IReadOnlyCollection<string>? skipFunctions = null, CancellationToken ct = default);

    /// <summary>Extends the leases <paramref name="owner"/> still holds on these calls; returns the ids it still held
    /// (a call missing from the answer was lost: its lease ran out and someone else claimed it).</summary>
    Task<IReadOnlyList<string>> RenewAsync(string owner, IReadOnlyList<string> executionIds, DateTimeOffset leaseUntil, CancellationToken ct = default);

    /// <summary>Writes a claimed call's record (running, re-queued for a retry, or finished; as
    /// <see cref="IExecutionStore.UpdateAsync"/>, in order with this daemon's other writes) only if <paramref name="owner"/>
    /// still holds it: false, and nothing written, when another daemon has claimed it since (this one stalled past its
    /// lease), so a stalled daemon's late outcome never overwrites the holder's.</summary>
    Task<bool> UpdateIfHeldAsync(string owner, ExecutionRecord record, CancellationToken ct = default);

    /// <summary>Gives a call back (finished, or handed off); false when <paramref name="owner"/> did not hold it.</summary>
    Task<bool> ReleaseAsync(string owner, string executionId, CancellationToken ct = default);

    /// <summary>Async calls queued (not started) of each of <paramref name="functions"/>, whoever holds them (absent: none):
    /// the backlog every daemon's queueSize check reads.</summary>
    Task<IReadOnlyDictionary<string, int>> CountQueuedAsync(IReadOnlyCollection<string> functions, CancellationToken ct = default);
}
