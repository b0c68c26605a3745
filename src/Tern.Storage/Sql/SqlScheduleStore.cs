using System.Data.Common;
using Tern.Storage.Schedules;

namespace Tern.Storage.Sql;

/// <summary>Schedules in SQLite or Postgres (table schedules). Times are UTC ticks; enabled is 0 or 1.</summary>
internal sealed class SqlScheduleStore(IStoreDatabase database) : IScheduleStore
{
    private const string Columns =
        "id, function, expression, timezone, payload, enabled, next_run_at, last_run_at, last_execution_id, last_error, created_at";

    public async Task CreateAsync(Schedule s, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = Bind(connection.Command($"""
            INSERT INTO schedules ({Columns})
            VALUES (@id, @function, @expression, @timezone, @payload, @enabled, @next, @last, @lastExec, @lastError, @created)
            """), s)
            .Bind("@next", s.NextRunAt?.UtcTicks).Bind("@function", s.Function).Bind("@last", s.LastRunAt?.UtcTicks).Bind("@lastExec", s.LastExecutionId)
            .Bind("@lastError", s.LastError).Bind("@created", s.CreatedAt.UtcTicks);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<Schedule?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command($"SELECT {Columns} FROM schedules WHERE id = @id").Bind("@id", id);
        return await command.ReadFirstAsync(Read, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Schedule>> ListAsync(string? function = null, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command(function is null
            ? $"SELECT {Columns} FROM schedules ORDER BY created_at, id"
            : $"SELECT {Columns} FROM schedules WHERE function = @function ORDER BY created_at, id");
        if (function is not null) command.Bind("@function", function);
        return await command.ReadAllAsync(Read, ct).ConfigureAwait(false);
    }

    public async Task<bool> UpdateAsync(Schedule s, bool keepNextRun = false, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = Bind(connection.Command($"""
            UPDATE schedules SET expression = @expression, timezone = @timezone, payload = @payload, enabled = @enabled
                {(keepNextRun ? "" : ", next_run_at = @next")}
            WHERE id = @id
            """), s);
        if (!keepNextRun) command.Bind("@next", s.NextRunAt?.UtcTicks);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command("DELETE FROM schedules WHERE id = @id").Bind("@id", id);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<Schedule>> ListDueAsync(DateTimeOffset now, int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command($"""
            SELECT {Columns} FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= @now
            ORDER BY next_run_at LIMIT @limit
            """).Bind("@now", now.UtcTicks).Bind("@limit", limit);
        return await command.ReadAllAsync(Read, ct).ConfigureAwait(false);
    }

    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command("SELECT MIN(next_run_at) FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL");
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is long ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
    }

    public async Task<bool> ClaimAsync(string id, DateTimeOffset expectedNextRunAt, DateTimeOffset? nextRunAt, DateTimeOffset runAt,
        CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command("""
            UPDATE schedules SET next_run_at = @next, last_run_at = @run
            WHERE id = @id AND enabled = 1 AND next_run_at = @expected
            """).Bind("@id", id).Bind("@expected", expectedNextRunAt.UtcTicks).Bind("@next", nextRunAt?.UtcTicks).Bind("@run", runAt.UtcTicks);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task RecordRunAsync(string id, string? executionId, string? error, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = executionId is null
            ? connection.Command("UPDATE schedules SET last_error = @error WHERE id = @id").Bind("@error", error)
            : connection.Command("UPDATE schedules SET last_execution_id = @exec, last_error = NULL WHERE id = @id").Bind("@exec", executionId);
        command.Bind("@id", id);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The fields a user edits (and the next run), shared by create and update (the next run is bound by each: an update may keep it).</summary>
    private static DbCommand Bind(DbCommand command, Schedule s) => command
        .Bind("@id", s.Id)
        .Bind("@expression", s.Expression)
        .Bind("@timezone", s.TimeZone)
        .Bind("@payload", s.Payload)
        .Bind("@enabled", s.Enabled ? 1 : 0);

    private static Schedule Read(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Function = r.GetString(1),
        Expression = r.GetString(2),
        TimeZone = r.StringOrNull(3),
        Payload = r.GetString(4),
        Enabled = r.GetInt32(5) != 0,
        NextRunAt = r.TicksOrNull(6),
        LastRunAt = r.TicksOrNull(7),
        LastExecutionId = r.StringOrNull(8),
        LastError = r.StringOrNull(9),
        CreatedAt = r.Ticks(10),
    };
}
