using System.Text.Json;
using Npgsql;
using Tern.Core.Executions;
using Tern.Storage.Postgres;
using Tern.Storage.Schema;
using Tern.Storage.Tests.Contract;

namespace Tern.Storage.Tests.Postgres;

/// <summary>The executions table's indexes on a real Postgres (migration 4): a call's claim, its queued -> running
/// update and its lease renewals write no index entry (HOT updates), and a database from before the step keeps every
/// record where the daemons look for it.</summary>
public sealed class PostgresExecutionIndexTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 0, 0, TimeSpan.Zero);
    private readonly PostgresBackend _backend = new();

    public Task InitializeAsync() => _backend.InitializeAsync(nameof(PostgresExecutionIndexTests));

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    private static ExecutionRecord Rec(string id, string status, bool async = true) => new()
    {
        ExecutionId = id, Function = "f", Status = status, Async = async, CreatedAt = T0,
    };

    [Fact]
    public async Task ClaimRunningUpdateAndRenewal_AreHeapOnlyUpdates_TheFinishedUpdateIsIndexed()
    {
        await using var store = (PostgresExecutionStore)_backend.NewExecutionStore(_backend.Open());
        await store.InsertAsync(Rec("call", ExecutionStatus.Queued));
        var claimed = Assert.Single(await store.ClaimAsync("daemon-a", 1, T0, T0.AddMinutes(1)));
        await store.UpdateAsync(claimed with { Status = ExecutionStatus.Running, StartedAt = T0 });
        Assert.Equal(["call"], await store.RenewAsync("daemon-a", ["call"], T0.AddMinutes(2)));
        await store.UpdateAsync(claimed with { Status = ExecutionStatus.Success, FinishedAt = T0.AddSeconds(1) });

        // Each row version on the table's first page, oldest first: after the insert, only heap-only tuples (reached
        // through the first version's index entries) until the finished update, which changes indexed columns.
        Assert.Equal([false, true, true, true, false], await HeapOnlyFlagsAsync());
    }

    /// <summary>For each tuple on page 0 of executions, whether it is heap-only (HEAP_ONLY_TUPLE, 0x8000 in t_infomask2):
    /// a version no index points at, written by a HOT update.</summary>
    private async Task<List<bool>> HeapOnlyFlagsAsync()
    {
        await using var connection = new NpgsqlConnection(_backend.ConnectionString);
        await connection.OpenAsync();
        await using (var extension = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public", connection))
            await extension.ExecuteNonQueryAsync();
        await using var command = new NpgsqlCommand(
            "SELECT (t_infomask2 & 32768) <> 0 FROM public.heap_page_items(public.get_raw_page('executions', 0)) ORDER BY lp", connection);
        var flags = new List<bool>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) flags.Add(reader.GetBoolean(0));
        return flags;
    }

    [Fact]
    public async Task ADatabaseFromBeforeTheStep_KeepsQueuedAndRunningCallsClaimable_SyncRecoverable_DeadLettersListed()
    {
        await using (var connection = new NpgsqlConnection(_backend.ConnectionString))
        {
            await connection.OpenAsync();
            var before = new StoreSchema("executions", [.. PostgresMigrations.Executions.Migrations.Where(m => m.Version <= 3)]);
            new SchemaMigrator(c => ((NpgsqlConnection)c).BeginTransaction()).Migrate(connection, [before]);
            await InsertRawAsync(connection, Rec("queued", ExecutionStatus.Queued), leaseUntil: null);
            await InsertRawAsync(connection, Rec("running-orphan", ExecutionStatus.Running), leaseUntil: T0.AddSeconds(30));
            await InsertRawAsync(connection, Rec("sync-running", ExecutionStatus.Running, async: false), leaseUntil: null);
            await InsertRawAsync(connection, Rec("done", ExecutionStatus.Success) with { FinishedAt = T0 }, leaseUntil: null);
            await InsertRawAsync(connection, Rec("dead", ExecutionStatus.Error) with { FinishedAt = T0, DeadLetter = true }, leaseUntil: null);
        }

        await using var store = (PostgresExecutionStore)_backend.NewExecutionStore(_backend.Open()); // migrates to the latest step

        Assert.Equal(["queued", "running-orphan"], (await store.ClaimAsync("daemon-b", 10, T0.AddMinutes(1), T0.AddMinutes(2)))
            .Select(r => r.ExecutionId).Order());
        Assert.Equal(["sync-running"], (await store.ListUnfinishedSyncAsync()).Select(r => r.ExecutionId));
        Assert.Equal(["queued", "running-orphan"], (await store.ListUnfinishedAsync()).Select(r => r.ExecutionId).Order());
        Assert.Equal(["dead"], (await store.ListDeadLettersAsync("f", 10)).Select(r => r.ExecutionId));
        Assert.Equal(2, await store.DeleteFinishedBeforeAsync(T0.AddSeconds(1)));
    }

    private static async Task InsertRawAsync(NpgsqlConnection connection, ExecutionRecord r, DateTimeOffset? leaseUntil)
    {
        await using var insert = new NpgsqlCommand("""
            INSERT INTO executions (execution_id, function, status, async, dead_letter, created_at, finished_at, record, claimed_by, lease_until)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, connection);
        object?[] values = [r.ExecutionId, r.Function, r.Status, r.Async ? 1 : 0, r.DeadLetter ? 1 : 0, r.CreatedAt.UtcTicks,
            r.FinishedAt?.UtcTicks, JsonSerializer.Serialize(r, StorageJsonContext.Default.ExecutionRecord),
            leaseUntil is null ? null : "daemon-a", leaseUntil?.UtcTicks];
        foreach (var value in values) insert.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        await insert.ExecuteNonQueryAsync();
    }
}
