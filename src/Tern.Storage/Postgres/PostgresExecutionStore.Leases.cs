using Npgsql;
using Tern.Core.Executions;
using Tern.Storage.Sql;

namespace Tern.Storage.Postgres;

/// <summary>Claims with leases (<see cref="IExecutionLeases"/>): one UPDATE over a SELECT ... FOR UPDATE SKIP LOCKED,
/// so claimants on several daemons each take different rows without waiting on each other. Claim and count read the
/// claimable rows per function (index executions_claimable_by_function), never a whole backlog they do not need.</summary>
internal sealed partial class PostgresExecutionStore : IExecutionLeases
{
    /// <summary>The rows a claim may take, as the partial index executions_claimable_by_function has them.</summary>
    private static readonly string Claimable = $"async = 1 AND {SqlDialect.Postgres.Live}";

    private const string Due = "(not_before IS NULL OR not_before <= $2) AND (lease_until IS NULL OR lease_until <= $2)";

    /// <summary>The functions with claimable calls, one index probe each (a loose index scan: the distinct functions
    /// without reading their rows). Ordered by the whole index key, so only the claimable index serves it (by function
    /// alone, the planner may walk an index of every record, finished ones included).</summary>
    private static readonly string FunctionsWithWork = $"""
        WITH RECURSIVE functions(function) AS (
            (SELECT function FROM executions WHERE {Claimable} ORDER BY function, created_at, seq LIMIT 1)
          UNION ALL
            SELECT (SELECT x.function FROM executions x WHERE {Claimable} AND x.function > f.function ORDER BY x.function, x.created_at, x.seq LIMIT 1)
            FROM functions f WHERE f.function IS NOT NULL)
        """;

    /// <summary>The oldest due calls of the functions not skipped: from each function's own run of the claimable index,
    /// its oldest due calls that no other claim holds (locked, skipping rows another claim has locked; a row another
    /// claim has just leased is rechecked and no longer due), then the oldest of those across functions, leased. So a
    /// skipped function's backlog is never read, and leased or finished rows are stepped over only at the head of each
    /// function's run; the price is that a claim over several functions locks up to the limit of each for the moment of
    /// the statement. The function is matched as a range and ordered on, so that only the claimable index yields the
    /// order: with "function = ...", the planner may walk executions_by_created through every record of every function
    /// (estimating the function's rows spread evenly) and sort.</summary>
    internal static readonly string ClaimSql = FunctionsWithWork + $"""

        UPDATE executions e SET claimed_by = $1, lease_until = $4
        FROM (SELECT due.execution_id FROM functions f
              CROSS JOIN LATERAL (
                  SELECT execution_id, created_at, seq FROM executions
                  WHERE function >= f.function AND function <= f.function AND {Claimable} AND {Due}
                  ORDER BY function, created_at, seq
                  LIMIT $3
                  FOR UPDATE SKIP LOCKED) due
              WHERE f.function IS NOT NULL AND NOT (f.function = ANY($5))
              ORDER BY due.created_at, due.seq
              LIMIT $3) picked
        WHERE e.execution_id = picked.execution_id
        RETURNING e.record, e.function, e.async, e.idempotency_key, e.created_at, e.seq
        """;

    /// <summary>Queued calls of the functions asked. Not capped at queueSize: a LIMIT forces an ordered index scan that
    /// visits the rows one by one (several times the cost per row of the bitmap scan a plain count gets), and admission
    /// keeps a backlog from growing much past queueSize anyway.</summary>
    private static readonly string CountSql = $"""
        SELECT function, count(*)::int FROM executions
        WHERE function = ANY($1) AND {Claimable} AND status = '{ExecutionStatus.Queued}'
        GROUP BY function
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

    public async Task<bool> UpdateIfHeldAsync(string owner, ExecutionRecord record, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return await Submit(ExecutionWriteKind.Update, record, 0, ct, owner: owner).ConfigureAwait(false) > 0;
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

    public async Task<IReadOnlyDictionary<string, int>> CountQueuedAsync(IReadOnlyCollection<string> functions, CancellationToken ct = default)
    {
        if (functions.Count == 0) return new Dictionary<string, int>();
        await using var connection = (NpgsqlConnection)await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(CountSql, connection);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. functions] });
        var counts = await command.ReadAllAsync(r => KeyValuePair.Create(r.GetString(0), r.GetInt32(1)), ct).ConfigureAwait(false);
        return counts.ToDictionary(StringComparer.Ordinal);
    }
}
