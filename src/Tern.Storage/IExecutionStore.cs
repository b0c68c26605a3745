using Tern.Core.Executions;

namespace Tern.Storage;

/// <summary>Execution records, durable. An accepted async call is committed here before its 202.</summary>
public interface IExecutionStore
{
    /// <summary>Inserts a new record and returns once it is durable (committed). Concurrent inserts are committed
    /// together in one transaction (group commit), so thousands per second cost few fsyncs.
    /// Throws DuplicateIdempotencyKeyException when (Function, IdempotencyKey) is already taken.</summary>
    Task InsertAsync(ExecutionRecord record, CancellationToken ct = default);

    /// <summary>Replaces a record's mutable state (status, attempt, output, error, times, NotBefore, DeadLetter).</summary>
    Task UpdateAsync(ExecutionRecord record, CancellationToken ct = default);

    Task<ExecutionRecord?> GetAsync(string executionId, CancellationToken ct = default);

    /// <summary>Completes once every write submitted before it is committed (or has failed). Sync calls' records are
    /// written behind their answers; this is how a reader that queries the database itself waits for them.</summary>
    Task FlushAsync(CancellationToken ct = default);

    /// <summary>The record holding this idempotency key for this function, if any (whatever its age).</summary>
    Task<ExecutionRecord?> FindByIdempotencyKeyAsync(string function, string idempotencyKey, CancellationToken ct = default);

    /// <summary>Async records that are queued or running: the work to resume after a restart, oldest first.</summary>
    Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedAsync(CancellationToken ct = default);

    /// <summary>Sync records still queued or running: after a restart, calls a crash cut short (their callers are gone).</summary>
    Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedSyncAsync(CancellationToken ct = default);

    /// <summary>Takes the Idempotency-Key off a record, so a retry with that key starts a new call. Returns false when
    /// there is no such record.</summary>
    Task<bool> ReleaseIdempotencyKeyAsync(string executionId, CancellationToken ct = default);

    /// <summary>Records matching <paramref name="query"/>, newest first (by creation, then id), at most its Limit, with
    /// the cursor of the next page when there may be one. Includes sync records not yet committed.</summary>
    Task<ExecutionPage> ListAsync(ExecutionQuery query, CancellationToken ct = default);

    /// <summary>A function's dead letters, newest first.</summary>
    Task<IReadOnlyList<ExecutionRecord>> ListDeadLettersAsync(string function, int limit, CancellationToken ct = default);

    /// <summary>Deletes finished records (and their idempotency keys) that finished before <paramref name="finishedBefore"/>.
    /// Returns how many were removed.</summary>
    Task<int> DeleteFinishedBeforeAsync(DateTimeOffset finishedBefore, CancellationToken ct = default);
}

public sealed class DuplicateIdempotencyKeyException(string function, string key)
    : Exception($"idempotency key '{key}' is already used for function '{function}'");
