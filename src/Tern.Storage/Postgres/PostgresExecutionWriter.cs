using System.Text.Json;
using Npgsql;
using Tern.Core.Executions;
using Tern.Storage.Sql;

namespace Tern.Storage.Postgres;

/// <summary>The Postgres writer thread's connection: a batch of writes goes to the server as one NpgsqlBatch, one round
/// trip that is also its transaction (statements sent together without BEGIN run in one implicit transaction, committed
/// at its end, all or nothing). Each run of consecutive inserts is one multi-row INSERT over arrays (one statement for
/// all the calls accepted meanwhile, not one each). Inserts use ON CONFLICT DO NOTHING, so a duplicate never aborts the
/// transaction: it changes no row, and only that write is failed (after a look at which key was taken).</summary>
internal sealed class PostgresExecutionWriter(NpgsqlConnection connection) : IExecutionWriter
{
    /// <summary>Rows in the order given (unnest keeps it, so seq follows it); the ids of those inserted come back.</summary>
    private const string Insert = """
        INSERT INTO executions (execution_id, function, status, async, dead_letter, idempotency_key,
                                created_at, finished_at, not_before, record)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::integer[], $6::text[],
                             $7::bigint[], $8::bigint[], $9::bigint[], $10::text[])
        ON CONFLICT DO NOTHING
        RETURNING execution_id
        """;

    /// <summary>A record that is no longer running gives its lease back (finished, or re-queued for a retry or a
    /// redrive: claimable again when due); claimed_by is kept, as who ran it last.</summary>
    private static readonly string Update = $"""
        UPDATE executions SET status = $2, dead_letter = $3, finished_at = $4, not_before = $5, record = $6,
            lease_until = CASE WHEN $2 = '{ExecutionStatus.Running}' THEN lease_until END
        WHERE execution_id = $1
        """;

    /// <summary>The same, only while the lease holder is still the writer's daemon.</summary>
    private static readonly string UpdateHeld = Update + " AND claimed_by = $7";

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
        using var batch = new NpgsqlBatch(connection);
        // Per statement, the writes it carries: one for an update or a delete, a run of them for an insert.
        var statements = new List<List<ExecutionWrite>>();
        for (var i = 0; i < writes.Count; i++)
        {
            var write = writes[i];
            if (write.Kind == ExecutionWriteKind.Insert)
            {
                // Only consecutive inserts share a statement: moving one ahead of an earlier write (a released
                // idempotency key) could change its outcome.
                var run = new List<ExecutionWrite> { write };
                while (i + 1 < writes.Count && writes[i + 1].Kind == ExecutionWriteKind.Insert) run.Add(writes[++i]);
                batch.BatchCommands.Add(InsertAll(run));
                statements.Add(run);
            }
            else if (Command(write) is { } command) // null for a barrier: committed in order, after every write before it
            {
                batch.BatchCommands.Add(command);
                statements.Add([write]);
            }
        }
        if (statements.Count == 0) return;
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        using (var reader = batch.ExecuteReader())
        {
            do
            {
                while (reader.Read()) inserted.Add(reader.GetString(0)); // only the inserts return rows
            } while (reader.NextResult());
        }
        for (var s = 0; s < statements.Count; s++)
        {
            foreach (var write in statements[s])
            {
                // An id twice in one run was inserted once: the first write of it gets the row.
                write.Result = write.Kind == ExecutionWriteKind.Insert
                    ? inserted.Remove(write.Record!.ExecutionId) ? 1 : 0
                    : batch.BatchCommands[s].RecordsAffected;
                // Committed already; an id, once written, stays (until retention, long after).
                if (write is { Kind: ExecutionWriteKind.Insert, Result: 0 })
                    write.Error = write.DuplicateInsert(idempotencyKeyTaken: !Exists(write.Record!.ExecutionId));
            }
        }
    }

    private bool Exists(string executionId)
    {
        using var command = new NpgsqlCommand("SELECT 1 FROM executions WHERE execution_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = executionId });
        return command.ExecuteScalar() is not null;
    }

    private static NpgsqlBatchCommand InsertAll(List<ExecutionWrite> run)
    {
        var records = run.Select(w => w.Record!).ToArray();
        var command = new NpgsqlBatchCommand(Insert);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. records.Select(r => r.ExecutionId)] });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. records.Select(r => r.Function)] });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. records.Select(r => r.Status)] });
        p.Add(new NpgsqlParameter<int[]> { TypedValue = [.. records.Select(r => r.Async ? 1 : 0)] });
        p.Add(new NpgsqlParameter<int[]> { TypedValue = [.. records.Select(r => r.DeadLetter ? 1 : 0)] });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = [.. records.Select(r => r.IdempotencyKey)] });
        p.Add(new NpgsqlParameter<long[]> { TypedValue = [.. records.Select(r => r.CreatedAt.UtcTicks)] });
        p.Add(new NpgsqlParameter<long?[]> { TypedValue = [.. records.Select(r => r.FinishedAt?.UtcTicks)] });
        p.Add(new NpgsqlParameter<long?[]> { TypedValue = [.. records.Select(r => r.NotBefore?.UtcTicks)] });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. records.Select(Serialize)] });
        return command;
    }

    private static NpgsqlBatchCommand? Command(ExecutionWrite write)
    {
        switch (write.Kind)
        {
            case ExecutionWriteKind.Update:
            {
                var r = write.Record!;
                var command = With(new NpgsqlBatchCommand(write.Owner is null ? Update : UpdateHeld), r.ExecutionId, r.Status,
                    r.DeadLetter ? 1 : 0, r.FinishedAt?.UtcTicks, r.NotBefore?.UtcTicks, Serialize(r));
                return write.Owner is null ? command : With(command, write.Owner);
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
