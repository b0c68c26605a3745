using System.Buffers;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Tern.Core.Executions;
using Tern.Storage.Sql;

namespace Tern.Storage.Sqlite;

/// <summary>The SQLite writer thread's connection and its prepared statements, driven through SQLite's own API: one
/// write is a few bind calls and a step, with the record serialized into one reused buffer. (Through ADO.NET a row
/// cost a binder object per parameter and a data reader per statement: the largest share of a warm call's
/// allocations, docs/hot-path.md.) A constraint failure rolls back only its own statement, so it fails only its write.</summary>
internal sealed class SqliteExecutionWriter : IExecutionWriter
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _insert;
    private readonly sqlite3_stmt _update;
    private readonly sqlite3_stmt _delete;
    private readonly sqlite3_stmt _releaseKey;
    private readonly ArrayBufferWriter<byte> _json = new(4096);
    private readonly Utf8JsonWriter _jsonWriter = new(Stream.Null);

    public SqliteExecutionWriter(SqliteDatabase database)
    {
        _connection = database.OpenUnpooled(); // transactions are run by hand here: never hand this one back to a pool
        _db = _connection.Handle!;
        try
        {
            // SQLite waits this long for another process's write lock (ADO.NET's own retry loop is not used here).
            raw.sqlite3_busy_timeout(_db, 30_000);
            // synchronous is per connection: set it on the one that commits (see SqliteExecutionStore on durability).
            Exec("PRAGMA synchronous = NORMAL");
            _insert = Prepare("""
                INSERT INTO executions (execution_id, function, status, async, dead_letter, idempotency_key,
                                        created_at, finished_at, not_before, record)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                """);
            // The immutable fields (function, async, idempotency key, creation time) stay as inserted, in the
            // columns and in the stored JSON alike, whatever the new copy says.
            _update = Prepare("""
                UPDATE executions
                SET status = ?2, dead_letter = ?3, finished_at = ?4, not_before = ?5,
                    record = json_set(?6,
                        '$.function', function,
                        '$.async', json(CASE async WHEN 1 THEN 'true' ELSE 'false' END),
                        '$.idempotencyKey', idempotency_key,
                        '$.createdAt', json_extract(record, '$.createdAt'))
                WHERE execution_id = ?1
                """);
            _releaseKey = Prepare("UPDATE executions SET idempotency_key = NULL, record = json_set(record, '$.idempotencyKey', NULL) WHERE execution_id = ?1");
            _delete = Prepare($"""
                DELETE FROM executions WHERE rowid IN (
                    SELECT rowid FROM executions
                    WHERE finished_at < ?1
                      AND status IN ('{ExecutionStatus.Success}', '{ExecutionStatus.Error}', '{ExecutionStatus.Timeout}')
                    LIMIT {BatchedExecutionStore.DeleteChunk})
                """);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    private const int SqliteConstraint = 19;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;

    public void Write(IReadOnlyList<ExecutionWrite> ops)
    {
        Exec("BEGIN IMMEDIATE"); // waits (busy timeout) for any other writer
        try
        {
            foreach (var op in ops)
            {
                try
                {
                    op.Result = Execute(op);
                }
                catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint && op.Kind == ExecutionWriteKind.Insert)
                {
                    // Only this statement is rolled back; the transaction and the other writes in it go on.
                    op.Error = e.SqliteExtendedErrorCode switch
                    {
                        SqliteConstraintUnique => op.DuplicateInsert(idempotencyKeyTaken: true, e),
                        SqliteConstraintPrimaryKey => op.DuplicateInsert(idempotencyKeyTaken: false, e),
                        _ => e,
                    };
                }
                catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
                {
                    op.Error = e;
                }
            }
            Exec("COMMIT");
        }
        catch
        {
            try { Rollback(); } catch (SqliteException) { } // the connection is reset anyway
            throw;
        }
    }

    private void Rollback()
    {
        if (raw.sqlite3_get_autocommit(_db) == 0) raw.sqlite3_exec(_db, "ROLLBACK");
    }

    /// <summary>Runs one write; returns the rows it changed. Throws SqliteException with SQLite's codes.</summary>
    private int Execute(ExecutionWrite op)
    {
        switch (op.Kind)
        {
            case ExecutionWriteKind.Insert:
            {
                var r = op.Record!;
                var s = _insert;
                BindText(s, 1, r.ExecutionId);
                BindText(s, 2, r.Function);
                BindText(s, 3, r.Status);
                raw.sqlite3_bind_int64(s, 4, r.Async ? 1 : 0);
                raw.sqlite3_bind_int64(s, 5, r.DeadLetter ? 1 : 0);
                BindText(s, 6, r.IdempotencyKey);
                raw.sqlite3_bind_int64(s, 7, r.CreatedAt.UtcTicks);
                BindTicks(s, 8, r.FinishedAt);
                BindTicks(s, 9, r.NotBefore);
                raw.sqlite3_bind_text(s, 10, Serialize(r));
                return Step(s);
            }
            case ExecutionWriteKind.Update:
            {
                var r = op.Record!;
                var s = _update;
                BindText(s, 1, r.ExecutionId);
                BindText(s, 2, r.Status);
                raw.sqlite3_bind_int64(s, 3, r.DeadLetter ? 1 : 0);
                BindTicks(s, 4, r.FinishedAt);
                BindTicks(s, 5, r.NotBefore);
                raw.sqlite3_bind_text(s, 6, Serialize(r));
                return Step(s);
            }
            case ExecutionWriteKind.ReleaseKey:
                BindText(_releaseKey, 1, op.ExecutionId);
                return Step(_releaseKey);
            case ExecutionWriteKind.DeleteChunk:
                raw.sqlite3_bind_int64(_delete, 1, op.CutoffTicks);
                return Step(_delete);
            default:
                return 0; // a barrier: committed in order, after every write queued before it
        }
    }

    private ReadOnlySpan<byte> Serialize(ExecutionRecord record)
    {
        _json.ResetWrittenCount();
        _jsonWriter.Reset(_json);
        JsonSerializer.Serialize(_jsonWriter, record, StorageJsonContext.Default.ExecutionRecord);
        return _json.WrittenSpan;
    }

    private int Step(sqlite3_stmt statement)
    {
        try
        {
            var rc = raw.sqlite3_step(statement);
            if (rc != raw.SQLITE_DONE) throw Error(rc);
            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(statement);
            raw.sqlite3_clear_bindings(statement);
        }
    }

    /// <summary>Binds a string as UTF-8 from the stack (SQLite copies it), so ids and names allocate nothing.</summary>
    private static void BindText(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, index);
            return;
        }
        var max = System.Text.Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = max > 512 ? ArrayPool<byte>.Shared.Rent(max) : null;
        var buffer = rented is null ? stackalloc byte[512] : rented;
        try
        {
            var length = System.Text.Encoding.UTF8.GetBytes(value, buffer);
            raw.sqlite3_bind_text(statement, index, buffer[..length]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void BindTicks(sqlite3_stmt statement, int index, DateTimeOffset? time)
    {
        if (time is { } t) raw.sqlite3_bind_int64(statement, index, t.UtcTicks);
        else raw.sqlite3_bind_null(statement, index);
    }

    private void Exec(string sql)
    {
        var rc = raw.sqlite3_exec(_db, sql);
        if (rc != raw.SQLITE_OK) throw Error(rc);
    }

    private sqlite3_stmt Prepare(string sql)
    {
        var rc = raw.sqlite3_prepare_v2(_db, sql, out var statement);
        if (rc != raw.SQLITE_OK) throw Error(rc);
        return statement;
    }

    private SqliteException Error(int rc) =>
        new(raw.sqlite3_errmsg(_db).utf8_to_string(), rc, raw.sqlite3_extended_errcode(_db));

    public void Dispose()
    {
        _insert?.Dispose();
        _update?.Dispose();
        _delete?.Dispose();
        _releaseKey?.Dispose();
        _jsonWriter.Dispose();
        _connection.Dispose(); // closes; an open transaction is rolled back
    }
}
