using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tern.Core.Executions;

namespace Tern.Storage.Sql;

/// <summary>Execution records in SQLite or Postgres (table <c>executions</c>: the queried fields as columns, the whole
/// record as JSON). This class is what both share: the write queue, group commit and the reads; a subclass supplies
/// the <see cref="IExecutionWriter"/> that runs a batch of writes in one transaction on its database.
/// <para>Writes (insert, update, delete) go through one background writer thread that owns one connection: it takes
/// whatever is pending (up to <see cref="MaxBatch"/> writes), runs them all in one transaction, commits, and only then
/// completes each caller's task (group commit). A write that breaks a constraint (a duplicate idempotency key) fails
/// only its own caller; the others in the transaction still commit. Writes are applied in the order they were
/// submitted.</para>
/// <para>Reads open their own pooled connections and see every completed write; a record submitted but not yet
/// committed is served from memory. Dispose (async) drains the pending writes, then stops the writer; writes after
/// that throw <see cref="ObjectDisposedException"/>.</para></summary>
internal abstract partial class BatchedExecutionStore : IExecutionStore, IAsyncDisposable, IDisposable
{
    /// <summary>At most this many writes share one transaction.</summary>
    public const int MaxBatch = 512;

    /// <summary>DeleteFinishedBeforeAsync removes rows in chunks of this many (one write each), so a large clean-up
    /// never holds the writer for long: inserts interleave with it.</summary>
    internal const int DeleteChunk = 500;

    private readonly IStoreDatabase _database;
    private readonly ILogger _logger;
    // The only reader is the writer thread, blocked in WaitToRead: synchronous continuations let a producer wake it
    // directly (a futex wake) instead of through a thread-pool work item, so a busy pool cannot delay the writer.
    private readonly Channel<ExecutionWrite> _queue = Channel.CreateUnbounded<ExecutionWrite>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    /// <summary>Records submitted but not yet committed (the newest copy of each), so a reader on this daemon sees a
    /// write as soon as it is submitted: sync calls do not wait for their record's commit.</summary>
    private readonly ConcurrentDictionary<string, ExecutionWrite> _unwritten = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _writerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IExecutionWriter? _writer;
    private long _committedBatches;

    protected BatchedExecutionStore(IStoreDatabase database, ILogger? logger)
    {
        _database = database;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Opens the writer's connection (failing here, not on the first insert, when the database cannot be
    /// opened) and starts the writer thread; the subclass's constructor calls it last.</summary>
    protected void StartWriter()
    {
        _writer = CreateWriter();
        new Thread(RunWriter) { IsBackground = true, Name = "tern-execution-writer" }.Start();
    }

    /// <summary>A new connection for the writer thread, with whatever it prepares.</summary>
    protected abstract IExecutionWriter CreateWriter();

    /// <summary>Errors that any write would hit now (lock timeout, disk full, I/O, a lost connection): retrying the
    /// writes of a failed batch one by one would only repeat them.</summary>
    protected abstract bool IsEnvironmental(Exception e);

    /// <summary>The columns a read selects for <see cref="ReadRecord"/>.</summary>
    protected virtual string RecordColumns => "record";

    /// <summary>One record from a row of <see cref="RecordColumns"/>.</summary>
    protected virtual ExecutionRecord ReadRecord(DbDataReader reader) => Deserialize(reader.GetString(0));

    /// <summary>Transactions the writer has committed so far (for metrics and tests: writes / transactions is the
    /// group-commit batch size).</summary>
    public long CommittedBatches => Interlocked.Read(ref _committedBatches);

    public Task InsertAsync(ExecutionRecord record, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Submit(ExecutionWriteKind.Insert, record, 0, ct);
    }

    /// <summary>Replaces the record's mutable state (status, attempt, output, error, times, NotBefore, DeadLetter).
    /// Function, Async, IdempotencyKey and CreatedAt are kept as inserted. Fails with KeyNotFoundException when no
    /// record has this ExecutionId (never inserted, or deleted as old).</summary>
    public Task UpdateAsync(ExecutionRecord record, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Submit(ExecutionWriteKind.Update, record, 0, ct);
    }

    public async Task<ExecutionRecord?> GetAsync(string executionId, CancellationToken ct = default)
    {
        if (_unwritten.TryGetValue(executionId, out var pending)) return pending.Record;
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {RecordColumns} FROM executions WHERE execution_id = @id";
        command.Bind("@id", executionId);
        return await command.ReadFirstAsync(ReadRecord, ct).ConfigureAwait(false);
    }

    public Task FlushAsync(CancellationToken ct = default) => Submit(ExecutionWriteKind.Barrier, null, 0, ct);

    public async Task<ExecutionRecord?> FindByIdempotencyKeyAsync(string function, string idempotencyKey, CancellationToken ct = default)
    {
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {RecordColumns} FROM executions WHERE function = @function AND idempotency_key = @key";
        command.Bind("@function", function).Bind("@key", idempotencyKey);
        return await command.ReadFirstAsync(ReadRecord, ct).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedAsync(CancellationToken ct = default) => ListUnfinishedAsync(async: true, ct);

    public Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedSyncAsync(CancellationToken ct = default) => ListUnfinishedAsync(async: false, ct);

    /// <summary>Queued or running records of async (or sync) calls, oldest first.</summary>
    private async Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedAsync(bool async, CancellationToken ct)
    {
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {RecordColumns} FROM executions
            WHERE {_database.Dialect.Live} AND async = @async
            ORDER BY created_at, {_database.Dialect.InsertionOrder}
            """;
        command.Bind("@async", async ? 1 : 0);
        return await ReadListAsync(command, ct).ConfigureAwait(false);
    }

    public async Task<bool> ReleaseIdempotencyKeyAsync(string executionId, CancellationToken ct = default) =>
        await Submit(ExecutionWriteKind.ReleaseKey, null, 0, ct, executionId).ConfigureAwait(false) > 0;

    public async Task<ExecutionPage> ListAsync(ExecutionQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        await FlushAsync(ct).ConfigureAwait(false); // sync records are written behind their answers: list them too
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.Function is not null)
        {
            where.Add("function = @function");
            command.Bind("@function", query.Function);
        }
        if (query.Statuses.Count > 0)
        {
            var names = query.Statuses.Select((status, i) => "@status" + i).ToArray();
            for (var i = 0; i < names.Length; i++) command.Bind(names[i], query.Statuses[i]);
            where.Add($"status IN ({string.Join(", ", names)})");
        }
        if (query.Since is { } since)
        {
            where.Add("created_at >= @since");
            command.Bind("@since", since.UtcTicks);
        }
        if (query.After is { } after)
        {
            where.Add("(created_at < @afterTicks OR (created_at = @afterTicks AND execution_id < @afterId))");
            command.Bind("@afterTicks", after.CreatedTicks).Bind("@afterId", after.ExecutionId);
        }
        command.CommandText = $"SELECT {RecordColumns} FROM executions"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + " ORDER BY created_at DESC, execution_id DESC LIMIT @limit";
        command.Bind("@limit", query.Limit + 1); // one more tells whether there is a next page
        var records = await ReadListAsync(command, ct).ConfigureAwait(false);
        if (records.Count <= query.Limit) return new ExecutionPage(records, null);
        var page = records.Take(query.Limit).ToList();
        var last = page[^1];
        return new ExecutionPage(page, new ExecutionCursor(last.CreatedAt.UtcTicks, last.ExecutionId));
    }

    public async Task<IReadOnlyList<ExecutionRecord>> ListDeadLettersAsync(string function, int limit, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (limit == 0) return [];
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {RecordColumns} FROM executions
            WHERE function = @function AND dead_letter = 1
            ORDER BY finished_at DESC
            LIMIT @limit
            """;
        command.Bind("@function", function).Bind("@limit", limit);
        return await ReadListAsync(command, ct).ConfigureAwait(false);
    }

    public async Task<int> DeleteFinishedBeforeAsync(DateTimeOffset finishedBefore, CancellationToken ct = default)
    {
        var total = 0;
        while (true)
        {
            var deleted = await Submit(ExecutionWriteKind.DeleteChunk, null, finishedBefore.UtcTicks, ct).ConfigureAwait(false);
            total += deleted;
            if (deleted < DeleteChunk) return total;
        }
    }

    /// <summary>Stops accepting writes, waits until every write already submitted is committed (or failed), then
    /// closes the writer's connection. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writerStopped.Task.ConfigureAwait(false);
    }

    /// <summary>As DisposeAsync, blocking (for containers that dispose synchronously).</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _writerStopped.Task.GetAwaiter().GetResult();
    }

    /// <summary>Queues a write for the writer thread (which serializes the record, off the caller's path) and returns its
    /// task: rows affected once committed, or the write's own failure.</summary>
    private protected Task<int> Submit(ExecutionWriteKind kind, ExecutionRecord? record, long cutoffTicks, CancellationToken ct,
        string? executionId = null, string? owner = null)
    {
        if (ct.IsCancellationRequested) return Task.FromCanceled<int>(ct);
        var op = new ExecutionWrite(kind, record, cutoffTicks, ct) { ExecutionId = executionId, Owner = owner };
        if (record is not null) _unwritten[record.ExecutionId] = op;
        if (_queue.Writer.TryWrite(op)) return op.Done.Task;
        Forget(op);
        return Task.FromException<int>(new ObjectDisposedException(nameof(BatchedExecutionStore)));
    }

    // ---- the writer thread ----

    private void RunWriter()
    {
        var reader = _queue.Reader;
        var batch = new List<ExecutionWrite>(MaxBatch);
        try
        {
            while (WaitToRead(reader))
            {
                while (batch.Count < MaxBatch && reader.TryRead(out var op))
                {
                    // A caller that gave up before its write started gets a cancellation and nothing is written;
                    // once written, the write completes normally (a cancelled task always means "not stored").
                    if (op.Cancellation.IsCancellationRequested)
                    {
                        Forget(op);
                        op.Done.TrySetCanceled(op.Cancellation);
                    }
                    else batch.Add(op);
                }
                if (batch.Count > 0) WriteBatch(batch);
                batch.Clear();
            }
        }
        catch (Exception e)
        {
            // Not expected (WriteBatch catches everything), but never leave a caller waiting forever.
            LogWriterCrashed(e);
            _queue.Writer.TryComplete();
            foreach (var op in batch) Fail(op, e);
            while (reader.TryRead(out var op)) Fail(op, new ObjectDisposedException(nameof(BatchedExecutionStore), e));
        }
        finally
        {
            ResetWriter();
            _writerStopped.TrySetResult();
        }
    }

    private static bool WaitToRead(ChannelReader<ExecutionWrite> reader)
    {
        var wait = reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    private void WriteBatch(List<ExecutionWrite> batch)
    {
        try
        {
            Commit(batch);
            Complete(batch);
            return;
        }
        catch (Exception e)
        {
            LogBatchFailed(e, batch.Count);
            ResetWriter();
            if (batch.Count == 1 || IsEnvironmental(e))
            {
                foreach (var op in batch) Fail(op, e);
                return;
            }
        }
        // The transaction failed as a whole, not from the database's state (busy, full, I/O) nor a constraint (those
        // fail only their own write, inside the transaction): so that one bad write cannot fail the others, retry
        // each in a transaction of its own.
        foreach (var op in batch)
        {
            try
            {
                Commit([op]);
                Complete([op]);
            }
            catch (Exception e)
            {
                ResetWriter();
                Fail(op, e);
            }
        }
    }

    private void Commit(IReadOnlyList<ExecutionWrite> ops)
    {
        var writer = _writer ??= CreateWriter();
        foreach (var op in ops)
        {
            op.Error = null;
            op.Result = 0;
        }
        writer.Write(ops);
        Interlocked.Increment(ref _committedBatches);
        foreach (var op in ops)
            if (op is { Kind: ExecutionWriteKind.Update, Result: 0, Error: null, Owner: null }) op.Error = ExecutionWrite.Missing(op.Record!);
    }

    private void Complete(IReadOnlyList<ExecutionWrite> ops)
    {
        foreach (var op in ops)
        {
            Forget(op);
            if (op.Error is { } error) op.Done.TrySetException(error);
            else op.Done.TrySetResult(op.Result);
        }
    }

    private void Fail(ExecutionWrite op, Exception e)
    {
        Forget(op);
        op.Done.TrySetException(e);
    }

    /// <summary>Committed or failed: readers go to the database again (unless a newer write of the record is pending).</summary>
    private void Forget(ExecutionWrite op)
    {
        if (op.Record is { } record) _unwritten.TryRemove(KeyValuePair.Create(record.ExecutionId, op)); // ExecutionWrite compares by reference
    }

    /// <summary>After a failed transaction, start over with a fresh connection and commands: whatever state the old
    /// ones were left in cannot leak into the next batch.</summary>
    private void ResetWriter()
    {
        try { _writer?.Dispose(); }
        catch (Exception e) { LogCloseFailed(e); }
        _writer = null;
    }

    protected static ExecutionRecord Deserialize(string json) =>
        JsonSerializer.Deserialize(json, StorageJsonContext.Default.ExecutionRecord)
        ?? throw new InvalidDataException("stored execution record is empty");

    private async Task<IReadOnlyList<ExecutionRecord>> ReadListAsync(DbCommand command, CancellationToken ct) =>
        await command.ReadAllAsync(ReadRecord, ct).ConfigureAwait(false);

    [LoggerMessage(EventId = 600, Level = LogLevel.Error, Message = "execution store: a write transaction of {Count} writes failed")]
    private partial void LogBatchFailed(Exception e, int count);

    [LoggerMessage(EventId = 601, Level = LogLevel.Critical, Message = "execution store: the writer thread stopped unexpectedly")]
    private partial void LogWriterCrashed(Exception e);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "execution store: closing the writer's connection failed")]
    private partial void LogCloseFailed(Exception e);
}
