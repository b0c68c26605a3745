using System.Text.Json;
using Npgsql;
using Tern.Core.Executions;
using Tern.Storage.Sql;

namespace Tern.Storage.Postgres;

/// <summary>The Postgres writer thread's connection: a batch of writes goes to the server as one NpgsqlBatch (one
/// round trip) inside one transaction. Inserts use ON CONFLICT DO NOTHING, so a duplicate never aborts the transaction:
/// it changes no row, and only that write is failed (after a look at which key was taken).</summary>
internal sealed class PostgresExecutionWriter(NpgsqlConnection connection) : IExecutionWriter
{
    private const string Insert = """
        INSERT INTO executions (execution_id, function, status, async, dead_letter, idempotency_key,
                                created_at, finished_at, not_before, record)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT DO NOTHING
        """;

    /// <summary>A record that is no longer running gives its lease back (finished, or re-queued for a retry or a
    /// redrive: claimable again when due); claimed_by is kept, as who ran it last.</summary>
    private static readonly string Update = $"""
        UPDATE executions SET status = $2, dead_letter = $3, finished_at = $4, not_before = $5, record = $6,
            lease_until = CASE WHEN $2 = '{ExecutionStatus.Running}' THEN lease_until END
        WHERE execution_id = $1
        """;

    private const string ReleaseKey = "UPDATE executions SET idempotency_key = NULL WHERE execution_id = $1";

    private static readonly string DeleteChunk = $"""
        DELETE FROM executions WHERE seq IN (
            SELECT seq FROM executions
            WHERE finished_at < $1
              AND status IN ('{ExecutionStatus.Success}', '{ExecutionStatus.Error}', '{ExecutionStatus.Timeout}')
            LIMIT {BatchedExecutionStore.DeleteChunk})
        """;

    public void Write(IReadOnlyList<ExecutionWrite> writes)
    {
        using var transaction = connection.BeginTransaction();
        using var batch = new NpgsqlBatch(connection, transaction);
        var sent = new List<ExecutionWrite>(writes.Count);
        foreach (var write in writes)
        {
            if (Command(write) is not { } command) continue; // a barrier: committed in order, after every write before it
            batch.BatchCommands.Add(command);
            sent.Add(write);
        }
        if (sent.Count > 0) batch.ExecuteNonQuery();
        for (var i = 0; i < sent.Count; i++)
        {
            var write = sent[i];
            write.Result = batch.BatchCommands[i].RecordsAffected;
            if (write is { Kind: ExecutionWriteKind.Insert, Result: 0 })
                write.Error = write.DuplicateInsert(idempotencyKeyTaken: !Exists(write.Record!.ExecutionId, transaction));
        }
        transaction.Commit();
    }

    private bool Exists(string executionId, NpgsqlTransaction transaction)
    {
        using var command = new NpgsqlCommand("SELECT 1 FROM executions WHERE execution_id = $1", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = executionId });
        return command.ExecuteScalar() is not null;
    }

    private static NpgsqlBatchCommand? Command(ExecutionWrite write)
    {
        switch (write.Kind)
        {
            case ExecutionWriteKind.Insert:
            {
                var r = write.Record!;
                return With(new NpgsqlBatchCommand(Insert), r.ExecutionId, r.Function, r.Status, r.Async ? 1 : 0, r.DeadLetter ? 1 : 0,
                    r.IdempotencyKey, r.CreatedAt.UtcTicks, r.FinishedAt?.UtcTicks, r.NotBefore?.UtcTicks, Serialize(r));
            }
            case ExecutionWriteKind.Update:
            {
                var r = write.Record!;
                return With(new NpgsqlBatchCommand(Update), r.ExecutionId, r.Status, r.DeadLetter ? 1 : 0, r.FinishedAt?.UtcTicks,
                    r.NotBefore?.UtcTicks, Serialize(r));
            }
            case ExecutionWriteKind.ReleaseKey:
                return With(new NpgsqlBatchCommand(ReleaseKey), write.ExecutionId);
            case ExecutionWriteKind.DeleteChunk:
                return With(new NpgsqlBatchCommand(DeleteChunk), write.CutoffTicks);
            default:
                return null;
        }
    }

    /// <summary>Positional parameters, typed; a null is left for the server to type from its column.</summary>
    private static NpgsqlBatchCommand With(NpgsqlBatchCommand command, params object?[] values)
    {
        foreach (var value in values)
            command.Parameters.Add(value switch
            {
                null => new NpgsqlParameter { Value = DBNull.Value },
                string text => new NpgsqlParameter<string> { TypedValue = text },
                long number => new NpgsqlParameter<long> { TypedValue = number },
                int number => new NpgsqlParameter<int> { TypedValue = number },
                _ => new NpgsqlParameter { Value = value },
            });
        return command;
    }

    private static string Serialize(ExecutionRecord record) => JsonSerializer.Serialize(record, StorageJsonContext.Default.ExecutionRecord);

    public void Dispose() => connection.Dispose();
}
