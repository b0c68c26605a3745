using System.Text.Json;
using Npgsql;
using Tern.Core.Executions;
using Tern.Storage.Postgres;
using Tern.Storage.Tests.Contract;

namespace Tern.Storage.Tests.Postgres;

/// <summary>Claims with leases on a real Postgres (groundwork for several daemons): two stores on their own connection
/// pools stand for two daemons sharing the database.</summary>
public sealed class PostgresExecutionLeaseTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 0, 0, TimeSpan.Zero);
    private readonly PostgresBackend _backend = new();
    private PostgresExecutionStore _a = null!;
    private PostgresExecutionStore _b = null!;

    public async Task InitializeAsync()
    {
        await _backend.InitializeAsync(nameof(PostgresExecutionLeaseTests));
        _a = (PostgresExecutionStore)_backend.NewExecutionStore(_backend.Open());
        _b = (PostgresExecutionStore)_backend.NewExecutionStore(_backend.Open());
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private static ExecutionRecord Rec(string id, int second, string status = ExecutionStatus.Queued, bool async = true, DateTimeOffset? notBefore = null) => new()
    {
        ExecutionId = id, Function = "f", Status = status, Async = async, CreatedAt = T0.AddSeconds(second), NotBefore = notBefore,
    };

    [Fact]
    public async Task TwoDaemonsClaimingAtOnce_NeverGetTheSameCall_AndTogetherGetThemAll()
    {
        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => _a.InsertAsync(Rec($"e{i:D3}", i))));

        async Task<List<string>> Drain(PostgresExecutionStore store, string owner)
        {
            var mine = new List<string>();
            while (await store.ClaimAsync(owner, 7, T0.AddHours(1), T0.AddHours(2)) is { Count: > 0 } claimed)
                mine.AddRange(claimed.Select(r => r.ExecutionId));
            return mine;
        }
        var both = await Task.WhenAll(Task.Run(() => Drain(_a, "daemon-a")), Task.Run(() => Drain(_b, "daemon-b")));

        Assert.Empty(both[0].Intersect(both[1]));
        Assert.Equal(400, both[0].Count + both[1].Count);
        Assert.True(both[0].Count > 0 && both[1].Count > 0, $"one daemon took everything: {both[0].Count} / {both[1].Count}");
        Assert.Equal(both[0].Order(), both[0]); // each claimant gets the oldest first
    }

    [Fact]
    public async Task Claim_OnlyDueAsyncCalls_OldestFirst()
    {
        await _a.InsertAsync(Rec("later", 5));
        await _a.InsertAsync(Rec("first", 1));
        await _a.InsertAsync(Rec("retry-not-yet", 0, notBefore: T0.AddMinutes(10)));
        await _a.InsertAsync(Rec("retry-due", 2, notBefore: T0.AddMinutes(1)));
        await _a.InsertAsync(Rec("sync", 0, async: false));
        await _a.InsertAsync(Rec("done", 0, status: ExecutionStatus.Success));

        var claimed = await _a.ClaimAsync("daemon-a", 10, T0.AddMinutes(2), T0.AddHours(1));

        Assert.Equal(["first", "retry-due", "later"], claimed.Select(r => r.ExecutionId));
        Assert.Equal(["retry-not-yet"], (await _b.ClaimAsync("daemon-b", 10, T0.AddMinutes(11), T0.AddMinutes(12))).Select(r => r.ExecutionId));
    }

    [Fact]
    public async Task ACallWhoseLeaseRanOut_IsClaimedAgain_AndItsOldOwnerCannotRenewIt()
    {
        await _a.InsertAsync(Rec("work", 0));
        Assert.Single(await _a.ClaimAsync("daemon-a", 1, T0, T0.AddSeconds(30)));
        await _a.UpdateAsync(Rec("work", 0, status: ExecutionStatus.Running)); // daemon-a runs it, then dies

        Assert.Empty(await _b.ClaimAsync("daemon-b", 1, T0.AddSeconds(29), T0.AddSeconds(59))); // still leased
        var reclaimed = Assert.Single(await _b.ClaimAsync("daemon-b", 1, T0.AddSeconds(30), T0.AddSeconds(60)));
        Assert.Equal((ExecutionStatus.Running, "work"), (reclaimed.Status, reclaimed.ExecutionId));

        Assert.Empty(await _a.RenewAsync("daemon-a", ["work"], T0.AddSeconds(90)));
        Assert.False(await _a.ReleaseAsync("daemon-a", "work"));
        Assert.Equal(["work"], await _b.RenewAsync("daemon-b", ["work", "unknown"], T0.AddSeconds(90)));
        Assert.Empty(await _a.ClaimAsync("daemon-a", 1, T0.AddSeconds(60), T0.AddSeconds(120))); // renewed to 90 s
    }

    [Fact]
    public async Task AStalledDaemonsWrite_OfACallAnotherDaemonClaimedSince_IsRefused_TheHoldersIsStored()
    {
        await _a.InsertAsync(Rec("work", 0));
        var mine = Assert.Single(await _a.ClaimAsync("daemon-a", 1, T0, T0.AddSeconds(30)));
        Assert.True(await _a.UpdateIfHeldAsync("daemon-a", mine with { Status = ExecutionStatus.Running }));
        var theirs = Assert.Single(await _b.ClaimAsync("daemon-b", 1, T0.AddSeconds(31), T0.AddSeconds(61))); // a stalled past its lease

        Assert.False(await _a.UpdateIfHeldAsync("daemon-a", mine with { Status = ExecutionStatus.Success, FinishedAt = T0.AddSeconds(40) }));
        Assert.Equal(ExecutionStatus.Running, (await _b.GetAsync("work"))!.Status);
        Assert.True(await _b.UpdateIfHeldAsync("daemon-b", theirs with { Status = ExecutionStatus.Error, FinishedAt = T0.AddSeconds(45) }));
        Assert.Equal(ExecutionStatus.Error, (await _a.GetAsync("work"))!.Status);
        Assert.False(await _a.UpdateIfHeldAsync("nobody", Rec("missing", 0))); // no such call: nothing to hold
    }

    [Fact]
    public async Task AReleasedCall_IsClaimable_AFinishedOneNever()
    {
        await _a.InsertAsync(Rec("handed-back", 0));
        await _a.InsertAsync(Rec("finished", 1));
        Assert.Equal(2, (await _a.ClaimAsync("daemon-a", 5, T0, T0.AddMinutes(1))).Count);

        Assert.True(await _a.ReleaseAsync("daemon-a", "handed-back"));
        await _a.UpdateAsync(Rec("finished", 1, status: ExecutionStatus.Success) with { FinishedAt = T0 });

        Assert.Equal(["handed-back"], (await _b.ClaimAsync("daemon-b", 5, T0, T0.AddMinutes(1))).Select(r => r.ExecutionId));
        // An hour on, daemon-b's lease on "handed-back" has run out too; "finished" is never claimed again.
        Assert.Equal(["handed-back"], (await _b.ClaimAsync("daemon-b", 5, T0.AddHours(1), T0.AddHours(2))).Select(r => r.ExecutionId));
    }

    [Fact]
    public async Task ARetryWrittenBack_GivesItsLeaseBack_AndIsClaimableWhenDue_NotRenewable()
    {
        await _a.InsertAsync(Rec("retried", 0));
        var claimed = Assert.Single(await _a.ClaimAsync("daemon-a", 1, T0, T0.AddMinutes(10)));
        await _a.UpdateAsync(claimed with { Status = ExecutionStatus.Running });
        Assert.Equal(["retried"], await _a.RenewAsync("daemon-a", ["retried"], T0.AddMinutes(20))); // running: still held

        // The attempt failed: written back as queued with its backoff, in the writer's update (no release call).
        await _a.UpdateAsync(claimed with { Status = ExecutionStatus.Queued, Attempt = 2, NotBefore = T0.AddSeconds(5) });

        Assert.Empty(await _a.RenewAsync("daemon-a", ["retried"], T0.AddMinutes(30))); // given back: renewing cannot take it again
        Assert.Empty(await _b.ClaimAsync("daemon-b", 1, T0.AddSeconds(4), T0.AddMinutes(1))); // not due yet
        var again = Assert.Single(await _b.ClaimAsync("daemon-b", 1, T0.AddSeconds(5), T0.AddMinutes(1))); // due, long before the old lease's end
        Assert.Equal(2, again.Attempt);
    }

    [Fact]
    public async Task Claim_SkipsTheFunctionsItIsTold_AndCountQueued_CountsPerFunction()
    {
        await _a.InsertAsync(Rec("f-1", 0));
        await _a.InsertAsync(Rec("f-2", 1));
        await _a.InsertAsync(Rec("g-1", 2) with { Function = "g" });
        await _a.InsertAsync(Rec("g-done", 3) with { Function = "g", Status = ExecutionStatus.Success });

        Assert.Equal(new Dictionary<string, int> { ["f"] = 2, ["g"] = 1 }, await _a.CountQueuedAsync(["f", "g", "none"]));
        Assert.Equal(new Dictionary<string, int> { ["g"] = 1 }, await _a.CountQueuedAsync(["g"])); // only what is asked
        Assert.Equal(["g-1"], (await _a.ClaimAsync("daemon-a", 5, T0, T0.AddMinutes(1), skipFunctions: ["f"])).Select(r => r.ExecutionId));
        Assert.Equal(["f-1", "f-2"], (await _b.ClaimAsync("daemon-b", 5, T0, T0.AddMinutes(1), skipFunctions: ["g"])).Select(r => r.ExecutionId));
        Assert.Equal(new Dictionary<string, int> { ["f"] = 2, ["g"] = 1 },
            await _a.CountQueuedAsync(["f", "g"])); // claimed, not started: still queued
    }

    [Fact]
    public async Task Claim_TakesTheOldestAcrossFunctions_AndNeverReadsTheBacklogOfOneItSkips()
    {
        await Task.WhenAll(Enumerable.Range(0, 3000).Select(i => _a.InsertAsync(Rec($"f-{i:D4}", i * 10))));
        await _a.InsertAsync(Rec("g-1", 5) with { Function = "g" });
        await _a.InsertAsync(Rec("h-1", 15) with { Function = "h" });
        await _a.InsertAsync(Rec("g-2", 40_000) with { Function = "g" });

        Assert.Equal(["f-0000", "g-1", "f-0001", "h-1"], (await _a.ClaimAsync("daemon-a", 4, T0.AddHours(2), T0.AddHours(3))).Select(r => r.ExecutionId));
        var blocks = await ClaimBufferBlocksAsync(skip: ["f"]);
        Assert.Equal(["g-2"], (await _b.ClaimAsync("daemon-b", 8, T0.AddHours(2), T0.AddHours(3), skipFunctions: ["f"])).Select(r => r.ExecutionId));
        // Walking f's 3,000 queued rows would touch a buffer per row; the per-function claim touches a few index pages.
        Assert.True(blocks < 300, $"a claim skipping f touched {blocks} buffers");
    }

    /// <summary>Buffers the claim query touches (EXPLAIN ANALYZE BUFFERS, rolled back) with these functions skipped.</summary>
    private async Task<long> ClaimBufferBlocksAsync(string[] skip)
    {
        await using var connection = new NpgsqlConnection(_backend.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + PostgresExecutionStore.ClaimSql, connection, transaction);
        explain.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "probe" });
        explain.Parameters.Add(new NpgsqlParameter<long> { TypedValue = T0.AddHours(2).UtcTicks });
        explain.Parameters.Add(new NpgsqlParameter<int> { TypedValue = 8 });
        explain.Parameters.Add(new NpgsqlParameter<long> { TypedValue = T0.AddHours(3).UtcTicks });
        explain.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = skip });
        using var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!);
        var top = plan.RootElement[0].GetProperty("Plan");
        await transaction.RollbackAsync();
        return top.GetProperty("Shared Hit Blocks").GetInt64() + top.GetProperty("Shared Read Blocks").GetInt64();
    }
}
