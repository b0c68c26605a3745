using Tern.Storage.Schedules;
using Tern.Storage.Sql;

namespace Tern.Storage.Tests.Contract;

public sealed class SqliteScheduleStoreTests : ScheduleStoreContract<SqliteBackend>;

public sealed class PostgresScheduleStoreTests : ScheduleStoreContract<PostgresBackend>;

/// <summary>What every schedule store does (<see cref="SqlScheduleStore"/> on SQLite and on Postgres): due runs
/// earliest first, and a run claimed once (compare-and-set on next_run_at).</summary>
public abstract class ScheduleStoreContract<TBackend> : StoreContract<TBackend> where TBackend : StoreBackend, new()
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 0, 0, TimeSpan.Zero);
    private SqlScheduleStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = new SqlScheduleStore(Database);
    }

    private static Schedule Sched(string id, string function = "f", DateTimeOffset? next = null, bool enabled = true, int createdMinute = 0) => new()
    {
        Id = id, Function = function, Expression = "*/5 * * * *", TimeZone = "Europe/Paris", Payload = """{"n":1}""",
        Enabled = enabled, NextRunAt = next, CreatedAt = T0.AddMinutes(createdMinute),
    };

    [Fact]
    public async Task CreateGetListUpdateDelete_RoundTripEveryField()
    {
        var s = Sched("a", next: T0.AddMinutes(5)) with { LastRunAt = T0, LastExecutionId = "e1", LastError = "boom" };
        await _store.CreateAsync(s);
        await _store.CreateAsync(Sched("b", function: "g", createdMinute: 1));
        await _store.CreateAsync(Sched("c", createdMinute: 2));

        Assert.Equal(s, await _store.GetAsync("a"));
        Assert.Null(await _store.GetAsync("missing"));
        Assert.Equal(["a", "b", "c"], (await _store.ListAsync()).Select(x => x.Id));
        Assert.Equal(["a", "c"], (await _store.ListAsync("f")).Select(x => x.Id));

        Assert.True(await _store.UpdateAsync(s with { Expression = "0 * * * *", TimeZone = null, Enabled = false, NextRunAt = null }));
        var updated = (await _store.GetAsync("a"))!;
        Assert.Equal(("0 * * * *", null, false, null), (updated.Expression, updated.TimeZone, updated.Enabled, updated.NextRunAt));
        Assert.False(await _store.UpdateAsync(Sched("missing")));

        Assert.True(await _store.DeleteAsync("a"));
        Assert.False(await _store.DeleteAsync("a"));
    }

    [Fact]
    public async Task UpdateAsync_KeepNextRun_LeavesTheStoredNextRun()
    {
        await _store.CreateAsync(Sched("a", next: T0.AddMinutes(5)));
        Assert.True(await _store.UpdateAsync(Sched("a", next: T0.AddHours(9)) with { Payload = "{}" }, keepNextRun: true));
        var stored = (await _store.GetAsync("a"))!;
        Assert.Equal((T0.AddMinutes(5), "{}"), (stored.NextRunAt!.Value, stored.Payload));
    }

    [Fact]
    public async Task ListDueAndNextDue_OnlyEnabled_EarliestFirst_WithLimit()
    {
        await _store.CreateAsync(Sched("late", next: T0.AddMinutes(3)));
        await _store.CreateAsync(Sched("early", next: T0.AddMinutes(1)));
        await _store.CreateAsync(Sched("future", next: T0.AddMinutes(30)));
        await _store.CreateAsync(Sched("off", next: T0, enabled: false));
        await _store.CreateAsync(Sched("never"));

        Assert.Equal(["early", "late"], (await _store.ListDueAsync(T0.AddMinutes(3), 10)).Select(x => x.Id));
        Assert.Equal(["early"], (await _store.ListDueAsync(T0.AddMinutes(3), 1)).Select(x => x.Id));
        Assert.Equal(T0.AddMinutes(1), await _store.NextDueAsync());
    }

    [Fact]
    public async Task NextDue_NoneEnabled_IsNull() => Assert.Null(await _store.NextDueAsync());

    [Fact]
    public async Task ClaimAsync_OneWinnerPerDueRun_AndRecordRunKeepsTheOutcome()
    {
        await _store.CreateAsync(Sched("a", next: T0));
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _store.ClaimAsync("a", T0, T0.AddMinutes(5), T0.AddSeconds(1))));
        Assert.Equal(1, claims.Count(c => c));
        Assert.False(await _store.ClaimAsync("a", T0, T0.AddMinutes(5), T0)); // that run is taken

        await _store.RecordRunAsync("a", null, "function 'f' does not exist");
        Assert.Equal("function 'f' does not exist", (await _store.GetAsync("a"))!.LastError);
        await _store.RecordRunAsync("a", "exec-1", null);
        var stored = (await _store.GetAsync("a"))!;
        Assert.Equal(("exec-1", null, T0.AddMinutes(5), T0.AddSeconds(1)), (stored.LastExecutionId, stored.LastError, stored.NextRunAt!.Value, stored.LastRunAt!.Value));

        Assert.True(await _store.ClaimAsync("a", T0.AddMinutes(5), null, T0.AddMinutes(5)));
        Assert.Null((await _store.GetAsync("a"))!.NextRunAt);
    }
}
