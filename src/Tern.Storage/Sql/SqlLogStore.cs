using Tern.Core.Executions;
using Tern.Storage.Logs;

namespace Tern.Storage.Sql;

/// <summary>Log lines in SQLite or Postgres, one row per line: table <c>logs(execution_id, function, ts, stream, text)</c>,
/// ts in UTC ticks, the insertion order (<see cref="SqlDialect.InsertionOrder"/>) giving the order within an execution.</summary>
internal sealed class SqlLogStore(IStoreDatabase database) : ILogStore
{
    public async Task AppendAsync(IReadOnlyList<LogLine> lines, CancellationToken ct = default)
    {
        if (lines.Count == 0) return;
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        foreach (var line in lines)
        {
            await using var command = connection.Command(
                "INSERT INTO logs (execution_id, function, ts, stream, text) VALUES (@id, @function, @ts, @stream, @text)", transaction)
                .Bind("@id", line.ExecutionId).Bind("@function", line.Function).Bind("@ts", line.Time.UtcTicks)
                .Bind("@stream", line.Stream).Bind("@text", line.Text);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<LogLine>> QueryAsync(string function, string? executionId, DateTimeOffset? since, int limit,
        CancellationToken ct = default)
    {
        if (limit <= 0) return [];
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command($"""
            SELECT ts, execution_id, stream, text FROM logs
            WHERE function = @function
            {(executionId is null ? "" : "AND execution_id = @id")}
            {(since is null ? "" : "AND ts >= @since")}
            ORDER BY {database.Dialect.InsertionOrder} DESC
            LIMIT @limit
            """).Bind("@function", function).Bind("@limit", limit);
        if (executionId is not null) command.Bind("@id", executionId);
        if (since is { } s) command.Bind("@since", s.UtcTicks);
        var lines = await command.ReadAllAsync(r => new LogLine(r.Ticks(0), function, r.GetString(1), r.GetString(2), r.GetString(3)), ct)
            .ConfigureAwait(false);
        lines.Reverse();
        return lines;
    }

    public async Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command("DELETE FROM logs WHERE ts < @before").Bind("@before", before.UtcTicks);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
