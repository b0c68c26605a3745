using Tern.Json;
using System.Diagnostics;
using System.Text.Json;
using Tern.Core.Executions;
using Tern.Core.Invocations;
using Tern.Storage.Sql;
using Xunit.Abstractions;

namespace Tern.Storage.Tests.Contract;

public sealed class SqliteExecutionStoreTests(ITestOutputHelper output) : ExecutionStoreContract<SqliteBackend>(output);

public sealed class PostgresExecutionStoreTests(ITestOutputHelper output) : ExecutionStoreContract<PostgresBackend>(output);

/// <summary>What every execution store does (<see cref="BatchedExecutionStore"/> on SQLite and on Postgres): group
/// commit, read-your-writes, idempotency keys, ordering and paging, clean-up.</summary>
public abstract class ExecutionStoreContract<TBackend>(ITestOutputHelper output) : StoreContract<TBackend> where TBackend : StoreBackend, new()
{
    private BatchedExecutionStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = Backend.NewExecutionStore(Database);
    }

    public override async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await base.DisposeAsync();
    }

    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static ExecutionRecord Rec(string id, string function = "f", string status = ExecutionStatus.Queued,
        bool async = true, DateTimeOffset? created = null, DateTimeOffset? finished = null, string? key = null,
        bool deadLetter = false) => new()
    {
        ExecutionId = id,
        Function = function,
        Status = status,
        Async = async,
        CreatedAt = created ?? T0,
        FinishedAt = finished,
        IdempotencyKey = key,
        DeadLetter = deadLetter,
    };

    private static ExecutionRecord Full(string id) => new()
    {
        ExecutionId = id,
        Function = "hello",
        Status = ExecutionStatus.Error,
        Attempt = 3,
        Async = true,
        Input = RawJson.Parse("""{"name":"x","n":[1,2,3]}"""),
        Output = RawJson.Parse("""{"message":"Hello, x!","nested":{"ok":false,"n":1.5},"list":[null,"é"]}"""),
        Error = new InvocationError(InvocationError.HandlerFailed, "boom: line 3"),
        CreatedAt = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.FromHours(2)).AddTicks(1234567),
        StartedAt = T0.AddSeconds(1),
        FinishedAt = T0.AddSeconds(2.5),
        DurationMs = 1234.567,
        ColdStart = true,
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        CallbackUrl = "http://127.0.0.1:9/done",
        IdempotencyKey = "order-42",
        NotBefore = T0.AddMinutes(5),
        DeadLetter = true,
    };

    /// <summary>Records compare by value except Output (a JsonElement compares by reference): that is compared as JSON.</summary>
    private static void AssertSameRecord(ExecutionRecord expected, ExecutionRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Output is null, actual.Output is null);
        if (expected.Output is { } json) Assert.True(JsonElement.DeepEquals(json.ToElement(), actual.Output!.Value.ToElement()), actual.Output!.Value.ToString());
        Assert.Equal(expected with { Output = null }, actual with { Output = null });
        Assert.Equal(expected.CreatedAt.Offset, actual.CreatedAt.Offset);
    }

    [Fact]
    public async Task InsertAsync_ThenGetAsync_ReturnsEveryField()
    {
        var record = Full("e1");

        await _store.InsertAsync(record);
        var loaded = await _store.GetAsync("e1");

        AssertSameRecord(record, loaded);
        Assert.Equal(JsonValueKind.Object, loaded!.Output!.Value.ToElement().ValueKind);
        Assert.Equal("Hello, x!", loaded.Output.Value.ToElement().GetProperty("message").GetString());
    }

    [Fact]
    public async Task InsertAsync_MinimalRecord_RoundTripsNulls()
    {
        var record = Rec("min");

        await _store.InsertAsync(record);

        AssertSameRecord(record, await _store.GetAsync("min"));
    }

    [Fact]
    public async Task GetAsync_Missing_ReturnsNull()
    {
        Assert.Null(await _store.GetAsync("nope"));
    }

    [Fact]
    public async Task UpdateAsync_ChangesStatusAttemptAndOutput()
    {
        var queued = Rec("u1");
        await _store.InsertAsync(queued);

        var done = queued with
        {
            Status = ExecutionStatus.Success,
            Attempt = 2,
            Output = RawJson.Parse("""{"result":42}"""),
            StartedAt = T0.AddSeconds(1),
            FinishedAt = T0.AddSeconds(2),
            DurationMs = 12.5,
        };
        await _store.UpdateAsync(done);

        AssertSameRecord(done, await _store.GetAsync("u1"));
        Assert.Empty(await _store.ListUnfinishedAsync());
    }

    [Fact]
    public async Task UpdateAsync_ChangedImmutableFields_KeepsTheInsertedOnes()
    {
        var inserted = Rec("imm", function: "f", key: "k1", created: T0);
        await _store.InsertAsync(inserted);

        await _store.UpdateAsync(inserted with
        {
            Function = "other", Async = false, IdempotencyKey = "k2", CreatedAt = T0.AddDays(1), Status = ExecutionStatus.Running,
        });

        AssertSameRecord(inserted with { Status = ExecutionStatus.Running }, await _store.GetAsync("imm"));
        Assert.NotNull(await _store.FindByIdempotencyKeyAsync("f", "k1"));
        Assert.Null(await _store.FindByIdempotencyKeyAsync("other", "k2"));
    }

    [Fact]
    public async Task UpdateAsync_MissingRecord_ThrowsKeyNotFound()
    {
        await Assert.ThrowsAsync<KeyNotFoundException>(() => _store.UpdateAsync(Rec("ghost")));
        Assert.Null(await _store.GetAsync("ghost"));
    }

    [Fact]
    public async Task InsertAsync_SameExecutionIdTwice_ThrowsAndKeepsTheFirst()
    {
        await _store.InsertAsync(Rec("same", status: ExecutionStatus.Queued));

        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.InsertAsync(Rec("same", status: ExecutionStatus.Running)));

        Assert.Equal(ExecutionStatus.Queued, (await _store.GetAsync("same"))!.Status);
    }

    [Fact]
    public async Task Reopened_AfterRestart_StillHasTheRecords()
    {
        var full = Full("kept");
        await _store.InsertAsync(full);
        await _store.InsertAsync(Rec("updated"));
        await _store.UpdateAsync(Rec("updated", status: ExecutionStatus.Running));
        await _store.DisposeAsync();
        _store = Backend.NewExecutionStore(Reopen()); // no connection of the "old process" survives

        AssertSameRecord(full, await _store.GetAsync("kept"));
        Assert.Equal(ExecutionStatus.Running, (await _store.GetAsync("updated"))!.Status);
        Assert.Equal(["updated"], (await _store.ListUnfinishedAsync()).Select(r => r.ExecutionId));
    }

    [Fact]
    public async Task GetAsync_AWriteNotYetCommitted_IsSeenAtOnce_AndFlushWaitsForTheCommit()
    {
        using (var blocker = await Backend.BlockWritesAsync()) // the writer cannot commit until this ends
        {

            var write = _store.InsertAsync(Rec("behind") with { Status = ExecutionStatus.Success });
            var flushed = _store.FlushAsync();
            Assert.Equal(ExecutionStatus.Success, (await _store.GetAsync("behind"))?.Status); // read-your-writes
            await Task.Delay(200);
            Assert.False(write.IsCompleted);
            Assert.False(flushed.IsCompleted);
            Assert.Equal(0L, blocker.Count("behind"));

            blocker.Commit();
            await flushed.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(write.IsCompletedSuccessfully);
            Assert.Equal(1L, blocker.Count("behind"));
        }
        Assert.Equal(ExecutionStatus.Success, (await _store.GetAsync("behind"))?.Status); // now from the database

    }

    [Fact]
    public async Task InsertAsync_DuplicateIdempotencyKeyInOneBatch_FailsOnlyTheDuplicate()
    {
        await _store.InsertAsync(Rec("earlier", key: "taken"));

        // Hold the database's write lock so the writer blocks on its first write while the rest pile up behind it:
        // they are then committed together, in one transaction.
        using (var blocker = await Backend.BlockWritesAsync())
        {

            var plug = _store.InsertAsync(Rec("plug"));
            await Task.Delay(300); // the writer has taken "plug" and waits for the lock
            var batchesBefore = _store.CommittedBatches;
            var tasks = new Dictionary<string, Task>();
            for (var i = 0; i < 20; i++)
            {
                var id = $"e{i}";
                var key = i switch { 5 => "taken", 9 or 14 => "twice", _ => $"key-{i}" };
                tasks[id] = _store.InsertAsync(Rec(id, key: key));
            }
            tasks["nokey-a"] = _store.InsertAsync(Rec("nokey-a"));
            tasks["nokey-b"] = _store.InsertAsync(Rec("nokey-b")); // null keys never collide

            blocker.Commit();
            await plug;
            await Task.WhenAll(tasks.Values).ContinueWith(_ => { });

            // "plug" alone, then the 22 others in one transaction (or, if the writer was slow to take "plug", all 23).
            Assert.InRange(_store.CommittedBatches - batchesBefore, 1, 2);
            var dup5 = await Assert.ThrowsAsync<DuplicateIdempotencyKeyException>(() => tasks["e5"]);
            Assert.Contains("taken", dup5.Message);
            await Assert.ThrowsAsync<DuplicateIdempotencyKeyException>(() => tasks["e14"]);
            foreach (var (id, task) in tasks.Where(t => t.Key is not ("e5" or "e14")))
            {
                Assert.True(task.IsCompletedSuccessfully, id);
                Assert.NotNull(await _store.GetAsync(id));
            }
        }
        Assert.Null(await _store.GetAsync("e5"));
        Assert.Null(await _store.GetAsync("e14"));
        Assert.Equal("e9", (await _store.FindByIdempotencyKeyAsync("f", "twice"))!.ExecutionId);
        Assert.Equal("earlier", (await _store.FindByIdempotencyKeyAsync("f", "taken"))!.ExecutionId);
    }

    [Fact]
    public async Task OneBatch_AppliesWritesInOrder_AReleasedKeyTakenAgain_AndTheSameIdTwiceFailsTheSecond()
    {
        await _store.InsertAsync(Rec("old", key: "reused"));

        Task released, again, first, twice, updated;
        using (var blocker = await Backend.BlockWritesAsync())
        {
            var plug = _store.InsertAsync(Rec("plug"));
            await Task.Delay(300); // the writer has taken "plug" and waits for the lock; the rest share one transaction
            released = _store.ReleaseIdempotencyKeyAsync("old");
            again = _store.InsertAsync(Rec("new", key: "reused")); // after the release in submission order: allowed
            first = _store.InsertAsync(Rec("dup"));
            twice = _store.InsertAsync(Rec("dup", key: "other"));
            updated = _store.UpdateAsync(Rec("dup", status: ExecutionStatus.Running));
            blocker.Commit();
            await plug;
            await Task.WhenAll(released, again, first, updated);
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => twice);
        Assert.Contains("'dup' already exists", e.Message);
        Assert.Equal("new", (await _store.FindByIdempotencyKeyAsync("f", "reused"))!.ExecutionId);
        Assert.Equal(ExecutionStatus.Running, (await _store.GetAsync("dup"))!.Status);
        Assert.Null(await _store.FindByIdempotencyKeyAsync("f", "other"));
    }

    [Fact]
    public async Task InsertAsync_DuplicateIdempotencyKey_ThrowsAndKeepsTheFirst()
    {
        await _store.InsertAsync(Rec("first", key: "k"));

        var e = await Assert.ThrowsAsync<DuplicateIdempotencyKeyException>(() => _store.InsertAsync(Rec("second", key: "k")));

        Assert.Contains("'k'", e.Message);
        Assert.Null(await _store.GetAsync("second"));
        Assert.Equal("first", (await _store.FindByIdempotencyKeyAsync("f", "k"))!.ExecutionId);
    }

    [Fact]
    public async Task FindByIdempotencyKeyAsync_KeyIsPerFunction()
    {
        await _store.InsertAsync(Rec("a1", function: "a", key: "k"));
        await _store.InsertAsync(Rec("b1", function: "b", key: "k")); // same key, other function: allowed
        await _store.InsertAsync(Rec("a2", function: "a"));

        Assert.Equal("a1", (await _store.FindByIdempotencyKeyAsync("a", "k"))!.ExecutionId);
        Assert.Equal("b1", (await _store.FindByIdempotencyKeyAsync("b", "k"))!.ExecutionId);
        Assert.Null(await _store.FindByIdempotencyKeyAsync("a", "other"));
        Assert.Null(await _store.FindByIdempotencyKeyAsync("c", "k"));
    }

    [Fact]
    public async Task ListUnfinishedAsync_ReturnsOnlyAsyncQueuedOrRunning_OldestFirst()
    {
        await _store.InsertAsync(Rec("running-2", status: ExecutionStatus.Running, created: T0.AddSeconds(2)));
        await _store.InsertAsync(Rec("queued-3", status: ExecutionStatus.Queued, created: T0.AddSeconds(3)));
        await _store.InsertAsync(Rec("queued-1", status: ExecutionStatus.Queued, created: T0.AddSeconds(1)));
        // An earlier instant written with another offset: ordering is by the instant, not the text.
        await _store.InsertAsync(Rec("queued-0", status: ExecutionStatus.Queued, created: T0.ToOffset(TimeSpan.FromHours(5))));
        await _store.InsertAsync(Rec("sync-running", status: ExecutionStatus.Running, async: false, created: T0));
        await _store.InsertAsync(Rec("done", status: ExecutionStatus.Success, created: T0, finished: T0.AddSeconds(1)));
        await _store.InsertAsync(Rec("failed", status: ExecutionStatus.Error, created: T0, finished: T0.AddSeconds(1)));
        await _store.InsertAsync(Rec("timed-out", status: ExecutionStatus.Timeout, created: T0, finished: T0.AddSeconds(1)));
        await _store.InsertAsync(Rec("finishes", status: ExecutionStatus.Queued, created: T0));
        await _store.UpdateAsync(Rec("finishes", status: ExecutionStatus.Success, created: T0, finished: T0.AddSeconds(1)));

        var list = await _store.ListUnfinishedAsync();

        Assert.Equal(["queued-0", "queued-1", "running-2", "queued-3"], list.Select(r => r.ExecutionId));
    }

    [Fact]
    public async Task ListDeadLettersAsync_FiltersByFunctionAndDeadLetter_NewestFirstWithLimit()
    {
        for (var i = 0; i < 5; i++)
            await _store.InsertAsync(Rec($"dead-{i}", function: "f", status: ExecutionStatus.Error, deadLetter: true,
                finished: T0.AddMinutes(i)));
        await _store.InsertAsync(Rec("failed-not-dead", function: "f", status: ExecutionStatus.Error, finished: T0.AddHours(1)));
        await _store.InsertAsync(Rec("other-dead", function: "g", status: ExecutionStatus.Timeout, deadLetter: true,
            finished: T0.AddHours(1)));
        await _store.InsertAsync(Rec("becomes-dead", function: "f", status: ExecutionStatus.Running));
        await _store.UpdateAsync(Rec("becomes-dead", function: "f", status: ExecutionStatus.Timeout, deadLetter: true,
            finished: T0.AddMinutes(2.5)));

        var top3 = await _store.ListDeadLettersAsync("f", 3);
        var all = await _store.ListDeadLettersAsync("f", 100);

        Assert.Equal(["dead-4", "dead-3", "becomes-dead"], top3.Select(r => r.ExecutionId));
        Assert.Equal(["dead-4", "dead-3", "becomes-dead", "dead-2", "dead-1", "dead-0"], all.Select(r => r.ExecutionId));
        Assert.Equal(["other-dead"], (await _store.ListDeadLettersAsync("g", 10)).Select(r => r.ExecutionId));
        Assert.Empty(await _store.ListDeadLettersAsync("f", 0));
        Assert.Empty(await _store.ListDeadLettersAsync("nobody", 10));
    }

    [Fact]
    public async Task DeleteFinishedBeforeAsync_RemovesOnlyOldTerminalRecords()
    {
        var cutoff = T0.AddDays(1);
        await _store.InsertAsync(Rec("old-success", status: ExecutionStatus.Success, finished: cutoff.AddTicks(-1), key: "k-old"));
        await _store.InsertAsync(Rec("old-error", status: ExecutionStatus.Error, finished: T0));
        await _store.InsertAsync(Rec("old-dead", status: ExecutionStatus.Timeout, finished: T0, deadLetter: true));
        await _store.InsertAsync(Rec("at-cutoff", status: ExecutionStatus.Success, finished: cutoff));
        await _store.InsertAsync(Rec("new-success", status: ExecutionStatus.Success, finished: cutoff.AddHours(1)));
        await _store.InsertAsync(Rec("old-queued", status: ExecutionStatus.Queued, created: T0));
        await _store.InsertAsync(Rec("old-running", status: ExecutionStatus.Running, created: T0));
        // A live record whose copy still carries a FinishedAt from an earlier attempt is not deleted either.
        await _store.InsertAsync(Rec("retrying", status: ExecutionStatus.Queued, finished: T0));

        var deleted = await _store.DeleteFinishedBeforeAsync(cutoff);

        Assert.Equal(3, deleted);
        foreach (var id in new[] { "old-success", "old-error", "old-dead" }) Assert.Null(await _store.GetAsync(id));
        foreach (var id in new[] { "at-cutoff", "new-success", "old-queued", "old-running", "retrying" })
            Assert.NotNull(await _store.GetAsync(id));
        // The deleted record's idempotency key is free again.
        Assert.Null(await _store.FindByIdempotencyKeyAsync("f", "k-old"));
        await _store.InsertAsync(Rec("reuses-key", key: "k-old"));
        Assert.Equal(0, await _store.DeleteFinishedBeforeAsync(cutoff));
    }

    [Fact]
    public async Task DeleteFinishedBeforeAsync_MoreRowsThanOneChunk_RemovesThemAll()
    {
        var count = BatchedExecutionStore.MaxBatch * 2 + 77;
        await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
            _store.InsertAsync(Rec($"old-{i}", status: ExecutionStatus.Success, finished: T0))));
        await _store.InsertAsync(Rec("live"));

        var deleted = await _store.DeleteFinishedBeforeAsync(T0.AddSeconds(1));

        Assert.Equal(count, deleted);
        Assert.Equal(["live"], (await _store.ListUnfinishedAsync()).Select(r => r.ExecutionId));
    }

    [Fact]
    public async Task InsertAsync_64ConcurrentCallers_AtLeast5000PerSecond()
    {
        const int total = 5000, callers = 64;
        await _store.InsertAsync(Rec("warm-up"));
        var batchesBefore = _store.CommittedBatches;
        var next = -1;

        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
                await _store.InsertAsync(Rec($"t-{i}", key: $"k-{i}", created: T0.AddTicks(i)) with { Input = RawJson.Parse("""{"n":1}""") });
        })));
        stopwatch.Stop();

        var rate = total / stopwatch.Elapsed.TotalSeconds;
        var batches = _store.CommittedBatches - batchesBefore;
        output.WriteLine($"{total} inserts from {callers} callers in {stopwatch.ElapsedMilliseconds} ms: {rate:F0} inserts/s, " +
            $"{batches} transactions ({(double)total / batches:F1} inserts each)");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"too slow: {rate:F0} inserts/s");
        Assert.True(batches < total, "inserts were not committed together");
        Assert.Equal(total + 1, (await _store.ListUnfinishedAsync()).Count);
    }

    [Fact]
    public async Task ConcurrentInsertsAndUpdates_FromManyTasks_LoseNothing()
    {
        const int tasks = 32, perTask = 50;

        await Task.WhenAll(Enumerable.Range(0, tasks).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < perTask; i++)
            {
                var record = Rec($"c-{t}-{i}", key: $"k-{t}-{i}", created: T0.AddSeconds(i));
                await _store.InsertAsync(record);
                await _store.UpdateAsync(record with { Status = ExecutionStatus.Running, Attempt = 2 });
                if (i % 2 == 0)
                    await _store.UpdateAsync(record with { Status = ExecutionStatus.Success, Attempt = 3, FinishedAt = T0.AddHours(1) });
            }
        })));

        for (var t = 0; t < tasks; t++)
            for (var i = 0; i < perTask; i++)
            {
                var stored = await _store.GetAsync($"c-{t}-{i}");
                Assert.NotNull(stored);
                Assert.Equal(i % 2 == 0 ? ExecutionStatus.Success : ExecutionStatus.Running, stored.Status);
                Assert.Equal(i % 2 == 0 ? 3 : 2, stored.Attempt);
            }
        Assert.Equal(tasks * perTask / 2, (await _store.ListUnfinishedAsync()).Count);
    }

    [Fact]
    public async Task DisposeAsync_WithPendingWrites_CommitsThemThenRejectsNewOnes()
    {
        var pending = Enumerable.Range(0, 300).Select(i => _store.InsertAsync(Rec($"p-{i}"))).ToList();

        await _store.DisposeAsync();

        Assert.All(pending, t => Assert.True(t.IsCompletedSuccessfully));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _store.InsertAsync(Rec("late")));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _store.UpdateAsync(Rec("p-1")));
        Assert.NotNull(await _store.GetAsync("p-1")); // reads still work: they do not use the writer
        await _store.DisposeAsync(); // twice is fine
        _store = Backend.NewExecutionStore(Reopen());
        Assert.Equal(300, (await _store.ListUnfinishedAsync()).Count);
    }

    [Fact]
    public async Task InsertAsync_CancelledToken_ThrowsAndStoresNothing()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.InsertAsync(Rec("cancelled"), cts.Token));

        Assert.Null(await _store.GetAsync("cancelled"));
    }

    [Fact]
    public async Task UpdateAsync_CancelledToken_ThrowsAndChangesNothing()
    {
        await _store.InsertAsync(Rec("keep", status: ExecutionStatus.Queued));
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.UpdateAsync(Rec("keep", status: ExecutionStatus.Running), cts.Token));

        Assert.Equal(ExecutionStatus.Queued, (await _store.GetAsync("keep"))!.Status);
    }

    [Fact]
    public async Task InsertAsync_WhileAnotherConnectionWrites_WaitsForTheLock()
    {
        // The function store writes to the same database from its own connections; the writer waits its turn.
        var functions = new SqlFunctionStore(Backend.Open());
        var inserts = Enumerable.Range(0, 50).Select(i => _store.InsertAsync(Rec($"w-{i}"))).ToList();
        for (var i = 0; i < 20; i++)
            await functions.CreateAsync(new Tern.Core.Functions.FunctionDefinition
            {
                Name = $"fn-{i}", Runtime = "python", Handler = "main.py", CodeHash = new string('a', 64), CodeFileName = "main.py",
                CreatedAt = T0, UpdatedAt = T0, Revision = 1,
            });

        await Task.WhenAll(inserts);

        Assert.Equal(50, (await _store.ListUnfinishedAsync()).Count);
        Assert.Equal(20, (await functions.ListAsync()).Count);
    }

    [Fact]
    public async Task ListAsync_PagesNewestFirst_TiesBrokenByIdSoNothingIsSkippedOrRepeated()
    {
        // Five records share one creation time: the cursor must still move past each exactly once.
        for (var i = 0; i < 8; i++)
        {
            var record = Rec($"id-{i}", function: i % 2 == 0 ? "even" : "odd", status: i < 3 ? ExecutionStatus.Error : ExecutionStatus.Success,
                created: i < 5 ? T0 : T0.AddSeconds(i));
            await _store.InsertAsync(record);
        }
        var newest = new[] { "id-7", "id-6", "id-5", "id-4", "id-3", "id-2", "id-1", "id-0" };

        var seen = new List<string>();
        ExecutionCursor? after = null;
        do
        {
            var page = await _store.ListAsync(new ExecutionQuery { Limit = 2, After = after });
            seen.AddRange(page.Executions.Select(e => e.ExecutionId));
            after = page.Next;
            if (after is not null) Assert.True(ExecutionCursor.TryDecode(after.Encode(), out var again) && again == after);
        }
        while (after is not null);
        Assert.Equal(newest, seen);

        var filtered = await _store.ListAsync(new ExecutionQuery
        {
            Function = "even", Statuses = [ExecutionStatus.Error, ExecutionStatus.Timeout], Since = T0, Limit = 10,
        });
        Assert.Equal(["id-2", "id-0"], filtered.Executions.Select(e => e.ExecutionId));
        Assert.Null(filtered.Next);
        Assert.Equal(["id-7", "id-6"], (await _store.ListAsync(new ExecutionQuery { Since = T0.AddSeconds(6), Limit = 10 })).Executions.Select(e => e.ExecutionId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("!!")]
    [InlineData("MTp4Ong")]   // "1:x:x": not an id
    [InlineData("eDox")]      // "x:1": not ticks
    [InlineData("OjE")]       // ":1"
    public void ExecutionCursor_RefusesWhatItDidNotMake(string token) => Assert.False(ExecutionCursor.TryDecode(token, out _));
}
