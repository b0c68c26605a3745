using Tern.Core.Executions;
using Tern.Storage.Sql;

namespace Tern.Storage.Tests.Contract;

public sealed class SqliteLogStoreTests : LogStoreContract<SqliteBackend>;

public sealed class PostgresLogStoreTests : LogStoreContract<PostgresBackend>;

/// <summary>What every log store does (<see cref="SqlLogStore"/> on SQLite and on Postgres): lines in the order they
/// were appended, the newest N of them, filtered by execution and time.</summary>
public abstract class LogStoreContract<TBackend> : StoreContract<TBackend> where TBackend : StoreBackend, new()
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 0, 0, TimeSpan.Zero);
    private SqlLogStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = new SqlLogStore(Database);
    }

    private static List<LogLine> Lines(string execution, DateTimeOffset at, int count, string function = "f") =>
        [.. Enumerable.Range(0, count).Select(i => new LogLine(at, function, execution, i % 2 == 0 ? LogLine.Stdout : LogLine.Stderr, $"{execution} line {i}"))];

    [Fact]
    public async Task Query_NewestLinesOldestFirst_InAppendOrder_EvenWithTheSameTime()
    {
        await _store.AppendAsync(Lines("e1", T0, 3));
        await _store.AppendAsync(Lines("e2", T0, 3)); // same time: the order of appending decides
        await _store.AppendAsync(Lines("other", T0, 2, function: "g"));

        Assert.Equal(["e1 line 2", "e2 line 0", "e2 line 1", "e2 line 2"], (await _store.QueryAsync("f", null, null, 4)).Select(l => l.Text));
        var e1 = await _store.QueryAsync("f", "e1", null, 100);
        Assert.Equal(Lines("e1", T0, 3), e1);
        Assert.Empty(await _store.QueryAsync("f", "e1", null, 0));
    }

    [Fact]
    public async Task Query_Since_AndDeleteBefore_UseTheLineTime()
    {
        await _store.AppendAsync(Lines("old", T0, 2));
        await _store.AppendAsync(Lines("new", T0.AddHours(1), 2));

        Assert.Equal(["new line 0", "new line 1"], (await _store.QueryAsync("f", null, T0.AddMinutes(30), 10)).Select(l => l.Text));
        Assert.Equal(2, await _store.DeleteBeforeAsync(T0.AddMinutes(30)));
        Assert.Equal(2, (await _store.QueryAsync("f", null, null, 10)).Count);
    }
}
