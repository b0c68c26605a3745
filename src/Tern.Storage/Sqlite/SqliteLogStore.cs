using Microsoft.Data.Sqlite;
using Tern.Core.Executions;
using Tern.Storage.Logs;

namespace Tern.Storage.Sqlite;

/// <summary>Log lines in SQLite, one row per line: table <c>logs(execution_id, function, ts, stream, text)</c>, ts in
/// UTC ticks, the rowid giving the order within an execution. Created here (not in SqliteDatabase) so the table is
/// only made where logs are used.</summary>
internal sealed class SqliteLogStore(SqliteDatabase database) : ILogStore
{
    private readonly SqliteDatabase _database = database;

    public async Task AppendAsync(IReadOnlyList<LogLine> lines, CancellationToken ct = default)
    {
        if (lines.Count == 0) return;
        await using var connection = _database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO logs (execution_id, function, ts, stream, text) VALUES ($id, $function, $ts, $stream, $text)";
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var function = command.Parameters.Add("$function", SqliteType.Text);
        var ts = command.Parameters.Add("$ts", SqliteType.Integer);
        var stream = command.Parameters.Add("$stream", SqliteType.Text);
        var text = command.Parameters.Add("$text", SqliteType.Text);
        foreach (var line in lines)
        {
            id.Value = line.ExecutionId;
            function.Value = line.Function;
            ts.Value = line.Time.UtcTicks;
            stream.Value = line.Stream;
            text.Value = line.Text;
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<LogLine>> QueryAsync(string function, string? executionId, DateTimeOffset? since, int limit,
        CancellationToken ct = default)
    {
        if (limit <= 0) return [];
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT ts, execution_id, stream, text FROM logs
            WHERE function = $function
            {(executionId is null ? "" : "AND execution_id = $id")}
            {(since is null ? "" : "AND ts >= $since")}
            ORDER BY rowid DESC
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$function", function);
        if (executionId is not null) command.Parameters.AddWithValue("$id", executionId);
        if (since is { } s) command.Parameters.AddWithValue("$since", s.UtcTicks);
        command.Parameters.AddWithValue("$limit", limit);
        var lines = new List<LogLine>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            lines.Add(new LogLine(new DateTimeOffset(reader.GetInt64(0), TimeSpan.Zero), function, reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        lines.Reverse();
        return lines;
    }

    public async Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM logs WHERE ts < $before";
        command.Parameters.AddWithValue("$before", before.UtcTicks);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
