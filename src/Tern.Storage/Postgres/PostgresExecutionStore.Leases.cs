using Npgsql;
using Tern.Core.Executions;
using Tern.Storage.Sql;

namespace Tern.Storage.Postgres;

/// <summary>Claims with leases (<see cref="IExecutionLeases"/>): one UPDATE over a SELECT ... FOR UPDATE SKIP LOCKED,
/// so claimants on several daemons each take different rows without waiting on each other.</summary>
internal sealed partial class PostgresExecutionStore : IExecutionLeases
{
    private static readonly string ClaimSql = $"""
        UPDATE executions e SET claimed_by = $1, lease_until = $4
        FROM (SELECT execution_id FROM executions
              WHERE async = 1 AND status IN ('{ExecutionStatus.Queued}', '{ExecutionStatus.Running}')
                AND (not_before IS NULL OR not_before <= $2)
                AND (lease_until IS NULL OR lease_until <= $2)
                AND NOT (function = ANY($5))
              ORDER BY created_at, seq
              LIMIT $3
              FOR UPDATE SKIP LOCKED) picked
        WHERE e.execution_id = picked.execution_id
        RETURNING e.record, e.function, e.async, e.idempotency_key, e.created_at, e.seq
        """;

    public async Task<IReadOnlyList<ExecutionRecord>> ClaimAsync(string owner, int limit, DateTimeOffset now, DateTimeOffset leaseUntil,
        IReadOnlyCollection<string>? skipFunctions = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = (NpgsqlConnection)await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(ClaimSql, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = now.UtcTicks });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = leaseUntil.UtcTicks });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = skipFunctions is null ? [] : [.. skipFunctions] });
        var claimed = await command.ReadAllAsync(r => (Record: ReadRecord(r), Seq: r.GetInt64(5)), ct).ConfigureAwait(false);
        // RETURNING has no order of its own: oldest first, as picked.
        return [.. claimed.OrderBy(c => c.Record.CreatedAt.UtcTicks).ThenBy(c => c.Seq).Select(c => c.Record)];
    }

    public async Task<IReadOnlyList<string>> RenewAsync(string owner, IReadOnlyList<string> executionIds, DateTimeOffset leaseUntil,
        CancellationToken ct = default)
    {
        if (executionIds.Count == 0) return [];
        await using var connection = (NpgsqlConnection)await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            """
            UPDATE executions SET lease_until = $3
            WHERE claimed_by = $1 AND execution_id = ANY($2) AND lease_until IS NOT NULL
            RETURNING execution_id
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. executionIds] });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = leaseUntil.UtcTicks });
        return await command.ReadAllAsync(r => r.GetString(0), ct).ConfigureAwait(false);
    }

    public async Task<bool> ReleaseAsync(string owner, string executionId, CancellationToken ct = default)
    {
        await using var connection = (NpgsqlConnection)await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "UPDATE executions SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1 AND execution_id = $2", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = executionId });
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyDictionary<string, int>> CountQueuedAsync(CancellationToken ct = default)
    {
        await using var connection = (NpgsqlConnection)await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            $"SELECT function, count(*)::int FROM executions WHERE async = 1 AND status = '{ExecutionStatus.Queued}' GROUP BY function",
            connection);
        var counts = await command.ReadAllAsync(r => KeyValuePair.Create(r.GetString(0), r.GetInt32(1)), ct).ConfigureAwait(false);
        return counts.ToDictionary(StringComparer.Ordinal);
    }
}
