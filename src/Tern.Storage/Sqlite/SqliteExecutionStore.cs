using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tern.Core.Executions;

namespace Tern.Storage.Sqlite;

/// <summary>Execution records in SQLite (table <c>executions</c>: the queried fields as columns, the whole record as
/// JSON).
/// <para>Writes (insert, update, delete) go through one background writer thread that owns one connection: it takes
/// whatever is pending (up to <see cref="MaxBatch"/> writes), runs them all in one transaction with prepared commands,
/// commits, and only then completes each caller's task (group commit). A write that breaks a constraint (a duplicate
/// idempotency key) fails only its own caller; the others in the transaction still commit. Writes are applied in the
/// order they were submitted.</para>
/// <para>Durability: the database runs in WAL mode with <c>synchronous=NORMAL</c>. A commit appends to the WAL file
/// with write(2) but does not fsync it, so a committed row survives the process being killed (SIGKILL, a crash: the
/// data is in the OS page cache and the next open replays the WAL), though not a power loss or kernel crash, which may
/// lose the last commits (never corrupting the file). That is the guarantee callers get when a task completes.</para>
/// <para>Reads open their own pooled connections; WAL lets them run beside the writer and they see every completed
/// write. Dispose (async) drains the pending writes, then stops the writer; writes after that throw
/// <see cref="ObjectDisposedException"/>.</para></summary>
internal sealed partial class SqliteExecutionStore : IExecutionStore, IAsyncDisposable, IDisposable
{
    /// <summary>At most this many writes share one transaction.</summary>
    public const int MaxBatch = 512;

    /// <summary>DeleteFinishedBeforeAsync removes rows in chunks of this many (one write each), so a large clean-up
    /// never holds the writer for long: inserts interleave with it.</summary>
    internal const int DeleteChunk = 500;

    private const int SqliteConstraint = 19;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;

    private readonly SqliteDatabase _database;
    private readonly ILogger _logger;
    // The only reader is the writer thread, blocked in WaitToRead: synchronous continuations let a producer wake it
    // directly (a futex wake) instead of through a thread-pool work item, so a busy pool cannot delay the writer.
    private readonly Channel<WriteOp> _queue = Channel.CreateUnbounded<WriteOp>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    /// <summary>Records submitted but not yet committed (the newest copy of each), so a reader on this daemon sees a
    /// write as soon as it is submitted: sync calls do not wait for their record's commit.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, WriteOp> _unwritten = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _writerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Writer? _writer;
    private long _committedBatches;

    public SqliteExecutionStore(SqliteDatabase database, ILogger<SqliteExecutionStore>? logger = null)
    {
        _database = database;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _writer = new Writer(database); // fail here, not on the first insert, when the database cannot be opened
        new Thread(RunWriter) { IsBackground = true, Name = "tern-execution-writer" }.Start();
    }

    /// <summary>Transactions the writer has committed so far (for metrics and tests: writes / transactions is the
    /// group-commit batch size).</summary>
    public long CommittedBatches => Interlocked.Read(ref _committedBatches);

    public Task InsertAsync(ExecutionRecord record, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Submit(WriteKind.Insert, record, 0, ct);
    }

    /// <summary>Replaces the record's mutable state (status, attempt, output, error, times, NotBefore, DeadLetter).
    /// Function, Async, IdempotencyKey and CreatedAt are kept as inserted. Fails with KeyNotFoundException when no
    /// record has this ExecutionId (never inserted, or deleted as old).</summary>
    public Task UpdateAsync(ExecutionRecord record, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Submit(WriteKind.Update, record, 0, ct);
    }

    public async Task<ExecutionRecord?> GetAsync(string executionId, CancellationToken ct = default)
    {
        if (_unwritten.TryGetValue(executionId, out var pending)) return pending.Record;
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT record FROM executions WHERE execution_id = $id";
        command.Parameters.AddWithValue("$id", executionId);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is string json ? Deserialize(json) : null;
    }

    public Task FlushAsync(CancellationToken ct = default) => Submit(WriteKind.Barrier, null, 0, ct);

    public async Task<ExecutionRecord?> FindByIdempotencyKeyAsync(string function, string idempotencyKey, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT record FROM executions WHERE function = $function AND idempotency_key = $key";
        command.Parameters.AddWithValue("$function", function);
        command.Parameters.AddWithValue("$key", idempotencyKey);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is string json ? Deserialize(json) : null;
    }

    public Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedAsync(CancellationToken ct = default) => ListUnfinishedAsync(async: true, ct);

    public Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedSyncAsync(CancellationToken ct = default) => ListUnfinishedAsync(async: false, ct);

    /// <summary>Queued or running records of async (or sync) calls, oldest first.</summary>
    private async Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedAsync(bool async, CancellationToken ct)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT record FROM executions
            WHERE status IN ('{ExecutionStatus.Queued}', '{ExecutionStatus.Running}') AND async = $async
            ORDER BY created_at, rowid
            """;
        command.Parameters.AddWithValue("$async", async ? 1 : 0);
        return await ReadListAsync(command, ct).ConfigureAwait(false);
    }

    public async Task<bool> ReleaseIdempotencyKeyAsync(string executionId, CancellationToken ct = default) =>
        await Submit(WriteKind.ReleaseKey, null, 0, ct, executionId).ConfigureAwait(false) > 0;

    public async Task<ExecutionPage> ListAsync(ExecutionQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        await FlushAsync(ct).ConfigureAwait(false); // sync records are written behind their answers: list them too
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.Function is not null)
        {
            where.Add("function = $function");
            command.Parameters.AddWithValue("$function", query.Function);
        }
        if (query.Statuses.Count > 0)
        {
            var names = query.Statuses.Select((status, i) => "$status" + i).ToArray();
            for (var i = 0; i < names.Length; i++) command.Parameters.AddWithValue(names[i], query.Statuses[i]);
            where.Add($"status IN ({string.Join(", ", names)})");
        }
        if (query.Since is { } since)
        {
            where.Add("created_at >= $since");
            command.Parameters.AddWithValue("$since", since.UtcTicks);
        }
        if (query.After is { } after)
        {
            where.Add("(created_at < $afterTicks OR (created_at = $afterTicks AND execution_id < $afterId))");
            command.Parameters.AddWithValue("$afterTicks", after.CreatedTicks);
            command.Parameters.AddWithValue("$afterId", after.ExecutionId);
        }
        command.CommandText = "SELECT record FROM executions"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + " ORDER BY created_at DESC, execution_id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", query.Limit + 1); // one more tells whether there is a next page
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
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT record FROM executions
            WHERE function = $function AND dead_letter = 1
            ORDER BY finished_at DESC
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$function", function);
        command.Parameters.AddWithValue("$limit", limit);
        return await ReadListAsync(command, ct).ConfigureAwait(false);
    }

    public async Task<int> DeleteFinishedBeforeAsync(DateTimeOffset finishedBefore, CancellationToken ct = default)
    {
        var total = 0;
        while (true)
        {
            var deleted = await Submit(WriteKind.DeleteChunk, null, finishedBefore.UtcTicks, ct).ConfigureAwait(false);
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
    private Task<int> Submit(WriteKind kind, ExecutionRecord? record, long cutoffTicks, CancellationToken ct, string? executionId = null)
    {
        if (ct.IsCancellationRequested) return Task.FromCanceled<int>(ct);
        var op = new WriteOp(kind, record, cutoffTicks, ct) { ExecutionId = executionId };
        if (record is not null) _unwritten[record.ExecutionId] = op;
        if (_queue.Writer.TryWrite(op)) return op.Done.Task;
        Forget(op);
        return Task.FromException<int>(new ObjectDisposedException(nameof(SqliteExecutionStore)));
    }

    // ---- the writer thread ----

    private void RunWriter()
    {
        var reader = _queue.Reader;
        var batch = new List<WriteOp>(MaxBatch);
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
            while (reader.TryRead(out var op)) Fail(op, new ObjectDisposedException(nameof(SqliteExecutionStore), e));
        }
        finally
        {
            ResetWriter();
            _writerStopped.TrySetResult();
        }
    }

    private static bool WaitToRead(ChannelReader<WriteOp> reader)
    {
        var wait = reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    private void WriteBatch(List<WriteOp> batch)
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

    /// <summary>Errors that any write would hit now (another process holds the lock past the timeout, disk full, I/O,
    /// read-only or damaged file): retrying the writes one by one would only repeat them.</summary>
    private static bool IsEnvironmental(Exception e) =>
        e is SqliteException { SqliteErrorCode: 5 or 6 or 7 or 8 or 10 or 11 or 13 or 14 or 26 };

    private void Commit(IReadOnlyList<WriteOp> ops)
    {
        var writer = _writer ??= new Writer(_database);
        writer.Begin();
        try
        {
            foreach (var op in ops)
            {
                op.Error = null;
                op.Result = 0;
                try
                {
                    op.Result = writer.Execute(op);
                    if (op.Kind == WriteKind.Update && op.Result == 0)
                        op.Error = new KeyNotFoundException($"execution '{op.Record!.ExecutionId}' does not exist");
                }
                catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
                {
                    // Only this statement is rolled back; the transaction and the other writes in it go on.
                    op.Error = e.SqliteExtendedErrorCode switch
                    {
                        SqliteConstraintUnique when op.Kind == WriteKind.Insert && op.Record!.IdempotencyKey is { } key =>
                            new DuplicateIdempotencyKeyException(op.Record.Function, key),
                        SqliteConstraintPrimaryKey when op.Kind == WriteKind.Insert =>
                            new InvalidOperationException($"execution '{op.Record!.ExecutionId}' already exists", e),
                        _ => e,
                    };
                }
            }
            writer.Commit();
        }
        catch
        {
            try { writer.Rollback(); } catch (SqliteException) { } // the connection is reset anyway
            throw;
        }
        Interlocked.Increment(ref _committedBatches);
    }

    private void Complete(IReadOnlyList<WriteOp> ops)
    {
        foreach (var op in ops)
        {
            Forget(op);
            if (op.Error is { } error) op.Done.TrySetException(error);
            else op.Done.TrySetResult(op.Result);
        }
    }

    private void Fail(WriteOp op, Exception e)
    {
        Forget(op);
        op.Done.TrySetException(e);
    }

    /// <summary>Committed or failed: readers go to the database again (unless a newer write of the record is pending).</summary>
    private void Forget(WriteOp op)
    {
        if (op.Record is { } record) _unwritten.TryRemove(KeyValuePair.Create(record.ExecutionId, op)); // WriteOp compares by reference
    }

    /// <summary>After a failed transaction, start over with a fresh connection and commands: whatever state the old
    /// ones were left in cannot leak into the next batch.</summary>
    private void ResetWriter()
    {
        try { _writer?.Dispose(); }
        catch (Exception e) { LogCloseFailed(e); }
        _writer = null;
    }

    private static ExecutionRecord Deserialize(string json) =>
        JsonSerializer.Deserialize(json, StorageJsonContext.Default.ExecutionRecord)
        ?? throw new InvalidDataException("stored execution record is empty");

    private static async Task<IReadOnlyList<ExecutionRecord>> ReadListAsync(SqliteCommand command, CancellationToken ct)
    {
        var list = new List<ExecutionRecord>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) list.Add(Deserialize(reader.GetString(0)));
        return list;
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Error, Message = "execution store: a write transaction of {Count} writes failed")]
    private partial void LogBatchFailed(Exception e, int count);

    [LoggerMessage(EventId = 601, Level = LogLevel.Critical, Message = "execution store: the writer thread stopped unexpectedly")]
    private partial void LogWriterCrashed(Exception e);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "execution store: closing the writer's connection failed")]
    private partial void LogCloseFailed(Exception e);
}
