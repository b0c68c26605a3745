using Microsoft.Data.Sqlite;
using Tern.Storage.Schedules;

namespace Tern.Storage.Sqlite;

/// <summary>Schedules in SQLite (table schedules, created here). Times are UTC ticks; enabled is 0 or 1.</summary>
internal sealed class SqliteScheduleStore(SqliteDatabase database) : IScheduleStore
{
    private const string Columns =
        "id, function, expression, timezone, payload, enabled, next_run_at, last_run_at, last_execution_id, last_error, created_at";
    private readonly SqliteDatabase _database = database;

    public async Task CreateAsync(Schedule s, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO schedules ({Columns})
            VALUES ($id, $function, $expression, $timezone, $payload, $enabled, $next, $last, $lastExec, $lastError, $created)
            """;
        Bind(command, s);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<Schedule?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM schedules WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<Schedule>> ListAsync(string? function = null, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = function is null
            ? $"SELECT {Columns} FROM schedules ORDER BY created_at, id"
            : $"SELECT {Columns} FROM schedules WHERE function = $function ORDER BY created_at, id";
        if (function is not null) command.Parameters.AddWithValue("$function", function);
        return await ReadAllAsync(command, ct).ConfigureAwait(false);
    }

    public async Task<bool> UpdateAsync(Schedule s, bool keepNextRun = false, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE schedules SET expression = $expression, timezone = $timezone, payload = $payload, enabled = $enabled,
                next_run_at = CASE WHEN $keep = 1 THEN next_run_at ELSE $next END
            WHERE id = $id
            """;
        Bind(command, s);
        command.Parameters.AddWithValue("$keep", keepNextRun ? 1 : 0);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM schedules WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<Schedule>> ListDueAsync(DateTimeOffset now, int limit, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {Columns} FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= $now
            ORDER BY next_run_at LIMIT $limit
            """;
        command.Parameters.AddWithValue("$now", now.UtcTicks);
        command.Parameters.AddWithValue("$limit", limit);
        return await ReadAllAsync(command, ct).ConfigureAwait(false);
    }

    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT MIN(next_run_at) FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL";
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is long ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
    }

    public async Task<bool> ClaimAsync(string id, DateTimeOffset expectedNextRunAt, DateTimeOffset? nextRunAt, DateTimeOffset runAt,
        CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE schedules SET next_run_at = $next, last_run_at = $run
            WHERE id = $id AND enabled = 1 AND next_run_at = $expected
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$expected", expectedNextRunAt.UtcTicks);
        command.Parameters.AddWithValue("$next", (object?)nextRunAt?.UtcTicks ?? DBNull.Value);
        command.Parameters.AddWithValue("$run", runAt.UtcTicks);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task RecordRunAsync(string id, string? executionId, string? error, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = executionId is null
            ? "UPDATE schedules SET last_error = $error WHERE id = $id"
            : "UPDATE schedules SET last_execution_id = $exec, last_error = NULL WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$exec", (object?)executionId ?? DBNull.Value);
        command.Parameters.AddWithValue("$error", (object?)error ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static void Bind(SqliteCommand command, Schedule s)
    {
        command.Parameters.AddWithValue("$id", s.Id);
        command.Parameters.AddWithValue("$function", s.Function);
        command.Parameters.AddWithValue("$expression", s.Expression);
        command.Parameters.AddWithValue("$timezone", (object?)s.TimeZone ?? DBNull.Value);
        command.Parameters.AddWithValue("$payload", s.Payload);
        command.Parameters.AddWithValue("$enabled", s.Enabled ? 1 : 0);
        command.Parameters.AddWithValue("$next", (object?)s.NextRunAt?.UtcTicks ?? DBNull.Value);
        command.Parameters.AddWithValue("$last", (object?)s.LastRunAt?.UtcTicks ?? DBNull.Value);
        command.Parameters.AddWithValue("$lastExec", (object?)s.LastExecutionId ?? DBNull.Value);
        command.Parameters.AddWithValue("$lastError", (object?)s.LastError ?? DBNull.Value);
        command.Parameters.AddWithValue("$created", s.CreatedAt.UtcTicks);
    }

    private static async Task<IReadOnlyList<Schedule>> ReadAllAsync(SqliteCommand command, CancellationToken ct)
    {
        var list = new List<Schedule>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) list.Add(Read(reader));
        return list;
    }

    private static Schedule Read(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        Function = r.GetString(1),
        Expression = r.GetString(2),
        TimeZone = r.IsDBNull(3) ? null : r.GetString(3),
        Payload = r.GetString(4),
        Enabled = r.GetInt64(5) != 0,
        NextRunAt = Time(r, 6),
        LastRunAt = Time(r, 7),
        LastExecutionId = r.IsDBNull(8) ? null : r.GetString(8),
        LastError = r.IsDBNull(9) ? null : r.GetString(9),
        CreatedAt = new DateTimeOffset(r.GetInt64(10), TimeSpan.Zero),
    };

    private static DateTimeOffset? Time(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : new DateTimeOffset(r.GetInt64(i), TimeSpan.Zero);
}
