using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tern.Core.Executions;

namespace Tern.Storage.Sqlite;

/// <summary>The write side of the store: what a queued write is, and the connection that commits batches of them.</summary>
public sealed partial class SqliteExecutionStore
{
    private enum WriteKind { Insert, Update, DeleteChunk }

    /// <summary>One submitted write. Result and Error are its outcome inside the current transaction, published to
    /// the caller (Done) only after that transaction commits.</summary>
    private sealed class WriteOp(WriteKind kind, ExecutionRecord? record, string? json, long cutoffTicks, CancellationToken ct)
    {
        public WriteKind Kind { get; } = kind;
        public ExecutionRecord? Record { get; } = record;
        public string? Json { get; } = json;
        public long CutoffTicks { get; } = cutoffTicks;
        public CancellationToken Cancellation { get; } = ct;
        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Result { get; set; }
        public Exception? Error { get; set; }
    }

    /// <summary>The writer thread's connection and its prepared commands. Used by that thread only.</summary>
    private sealed class Writer : IDisposable
    {
        private readonly SqliteCommand _insert;
        private readonly SqliteCommand _update;
        private readonly SqliteCommand _delete;

        public Writer(SqliteDatabase database)
        {
            Connection = database.Open();
            try
            {
                // synchronous is per connection: set it on the one that commits (see the class comment on durability).
                using (var pragma = Connection.CreateCommand())
                {
                    pragma.CommandText = "PRAGMA synchronous = NORMAL";
                    pragma.ExecuteNonQuery();
                }
                _insert = Prepare("""
                    INSERT INTO executions (execution_id, function, status, async, dead_letter, idempotency_key,
                                            created_at, finished_at, not_before, record)
                    VALUES ($id, $function, $status, $async, $dead_letter, $idempotency_key,
                            $created_at, $finished_at, $not_before, $record)
                    """, "$id", "$function", "$status", "$async", "$dead_letter", "$idempotency_key",
                    "$created_at", "$finished_at", "$not_before", "$record");
                // The immutable fields (function, async, idempotency key, creation time) stay as inserted, in the
                // columns and in the stored JSON alike, whatever the new copy says.
                _update = Prepare("""
                    UPDATE executions
                    SET status = $status, dead_letter = $dead_letter, finished_at = $finished_at, not_before = $not_before,
                        record = json_set($record,
                            '$.function', function,
                            '$.async', json(CASE async WHEN 1 THEN 'true' ELSE 'false' END),
                            '$.idempotencyKey', idempotency_key,
                            '$.createdAt', json_extract(record, '$.createdAt'))
                    WHERE execution_id = $id
                    """, "$id", "$status", "$dead_letter", "$finished_at", "$not_before", "$record");
                _delete = Prepare($"""
                    DELETE FROM executions WHERE rowid IN (
                        SELECT rowid FROM executions
                        WHERE finished_at < $cutoff
                          AND status IN ('{ExecutionStatus.Success}', '{ExecutionStatus.Error}', '{ExecutionStatus.Timeout}')
                        LIMIT {DeleteChunk})
                    """, "$cutoff");
            }
            catch
            {
                Connection.Dispose();
                throw;
            }
        }

        public SqliteConnection Connection { get; }

        public int Execute(WriteOp op, SqliteTransaction transaction)
        {
            switch (op.Kind)
            {
                case WriteKind.Insert:
                {
                    var r = op.Record!;
                    var p = _insert.Parameters;
                    p[0].Value = r.ExecutionId;
                    p[1].Value = r.Function;
                    p[2].Value = r.Status;
                    p[3].Value = r.Async ? 1 : 0;
                    p[4].Value = r.DeadLetter ? 1 : 0;
                    p[5].Value = (object?)r.IdempotencyKey ?? DBNull.Value;
                    p[6].Value = r.CreatedAt.UtcTicks;
                    p[7].Value = Ticks(r.FinishedAt);
                    p[8].Value = Ticks(r.NotBefore);
                    p[9].Value = op.Json;
                    _insert.Transaction = transaction;
                    return _insert.ExecuteNonQuery();
                }
                case WriteKind.Update:
                {
                    var r = op.Record!;
                    var p = _update.Parameters;
                    p[0].Value = r.ExecutionId;
                    p[1].Value = r.Status;
                    p[2].Value = r.DeadLetter ? 1 : 0;
                    p[3].Value = Ticks(r.FinishedAt);
                    p[4].Value = Ticks(r.NotBefore);
                    p[5].Value = op.Json;
                    _update.Transaction = transaction;
                    return _update.ExecuteNonQuery();
                }
                default:
                    _delete.Parameters[0].Value = op.CutoffTicks;
                    _delete.Transaction = transaction;
                    return _delete.ExecuteNonQuery();
            }
        }

        public void Dispose()
        {
            _insert.Dispose();
            _update.Dispose();
            _delete.Dispose();
            Connection.Dispose(); // back to the pool; an open transaction is rolled back
        }

        private static object Ticks(DateTimeOffset? time) => time is { } t ? t.UtcTicks : DBNull.Value;

        private SqliteCommand Prepare(string sql, params string[] parameters)
        {
            var command = Connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters) command.Parameters.Add(new SqliteParameter { ParameterName = name });
            command.Prepare();
            return command;
        }
    }
}
