using Tern.Core.Executions;

namespace Tern.Storage.Sql;

internal enum ExecutionWriteKind { Insert, Update, DeleteChunk, Barrier, ReleaseKey }

/// <summary>One write submitted to a <see cref="BatchedExecutionStore"/>. Result and Error are its outcome inside the
/// current transaction, published to the caller (Done) only after that transaction commits.</summary>
internal sealed class ExecutionWrite(ExecutionWriteKind kind, ExecutionRecord? record, long cutoffTicks, CancellationToken ct)
{
    public ExecutionWriteKind Kind { get; } = kind;
    public ExecutionRecord? Record { get; } = record;
    /// <summary>A DeleteChunk's cut-off: finished before these UTC ticks.</summary>
    public long CutoffTicks { get; } = cutoffTicks;
    public CancellationToken Cancellation { get; } = ct;
    public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public int Result { get; set; }
    public Exception? Error { get; set; }
    /// <summary>The record a ReleaseKey write is about.</summary>
    public string? ExecutionId { get; init; }
    /// <summary>An update only while this daemon holds the call's lease (<see cref="IExecutionLeases.UpdateIfHeldAsync"/>):
    /// no row changed then means the lease went to another daemon, not a missing record.</summary>
    public string? Owner { get; init; }

    /// <summary>The error a rejected insert reports: a duplicate idempotency key, or a duplicate execution id.</summary>
    public Exception DuplicateInsert(bool idempotencyKeyTaken, Exception? inner = null) =>
        idempotencyKeyTaken && Record!.IdempotencyKey is { } key
            ? new DuplicateIdempotencyKeyException(Record.Function, key)
            : new InvalidOperationException($"execution '{Record!.ExecutionId}' already exists", inner);

    public static KeyNotFoundException Missing(ExecutionRecord record) => new($"execution '{record.ExecutionId}' does not exist");
}

/// <summary>The writer thread's connection: runs a batch of writes in one transaction and commits it. A write that
/// breaks a constraint (or updates a missing record) gets its own Error and the rest still commit; anything that
/// fails the transaction as a whole is thrown, after a rollback. Used by that one thread only.</summary>
internal interface IExecutionWriter : IDisposable
{
    /// <summary>Rows each write changed (Result) or its own failure (Error); DeleteChunk removes at most
    /// <see cref="BatchedExecutionStore.DeleteChunk"/> rows.</summary>
    void Write(IReadOnlyList<ExecutionWrite> writes);
}
