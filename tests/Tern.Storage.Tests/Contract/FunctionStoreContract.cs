using Tern.Core.Functions;
using Tern.Storage.Sql;

namespace Tern.Storage.Tests.Contract;

public sealed class SqliteFunctionStoreTests : FunctionStoreContract<SqliteBackend>;

public sealed class PostgresFunctionStoreTests : FunctionStoreContract<PostgresBackend>;

/// <summary>What every function store does (<see cref="SqlFunctionStore"/> on SQLite and on Postgres).</summary>
public abstract class FunctionStoreContract<TBackend> : StoreContract<TBackend> where TBackend : StoreBackend, new()
{
    private SqlFunctionStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = new SqlFunctionStore(Database);
    }

    private static readonly DateTimeOffset Created = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static FunctionDefinition Def(string name, int version = 1, int memoryMb = 256) => new()
    {
        Name = name,
        Runtime = "python",
        Handler = "main.py",
        CodeHash = new string('a', 64),
        CodeFileName = "main.py",
        MemoryMb = memoryMb,
        Vcpus = 2,
        TimeoutMs = 5000,
        Env = new Dictionary<string, string> { ["GREETING"] = "hello" },
        Mode = ExecutionModes.Persistent,
        MinReplicas = 1,
        MaxReplicas = 4,
        Concurrency = 16,
        QueueSize = 7,
        MaxRetries = 0,
        Isolation = "microvm",
        CreatedAt = Created,
        UpdatedAt = Created.AddMinutes(version),
        Revision = version,
    };

    private static void AssertSameDefinition(FunctionDefinition expected, FunctionDefinition? actual)
    {
        Assert.NotNull(actual);
        // Env is a dictionary, compared by content; everything else must match via record equality.
        Assert.Equal(expected.Env, actual.Env);
        Assert.Equal(expected with { Env = actual.Env }, actual);
    }

    [Fact]
    public async Task CreateAsync_ThenGetAsync_ReturnsEveryField()
    {
        var def = Def("hello");

        await _store.CreateAsync(def);
        var loaded = await _store.GetAsync("hello");

        AssertSameDefinition(def, loaded);
    }

    [Fact]
    public async Task GetAsync_Missing_ReturnsNull()
    {
        Assert.Null(await _store.GetAsync("nope"));
    }

    [Fact]
    public async Task ListAsync_ReturnsAllOrderedByName()
    {
        foreach (var name in new[] { "charlie", "alpha", "bravo-2", "bravo" })
            await _store.CreateAsync(Def(name));

        var list = await _store.ListAsync();

        Assert.Equal(["alpha", "bravo", "bravo-2", "charlie"], list.Select(f => f.Name));
    }

    [Fact]
    public async Task ListAsync_Empty_ReturnsEmpty()
    {
        Assert.Empty(await _store.ListAsync());
    }

    [Fact]
    public async Task CreateAsync_DuplicateName_ThrowsFunctionAlreadyExists()
    {
        await _store.CreateAsync(Def("dup", memoryMb: 128));

        var e = await Assert.ThrowsAsync<FunctionAlreadyExistsException>(() => _store.CreateAsync(Def("dup", memoryMb: 512)));

        Assert.Equal("dup", e.Name);
        Assert.Equal(128, (await _store.GetAsync("dup"))!.MemoryMb);
    }

    [Fact]
    public async Task UpdateAsync_ExpectedVersionMatches_ReplacesTheDefinition()
    {
        await _store.CreateAsync(Def("f", version: 1, memoryMb: 128));
        var updated = Def("f", version: 2, memoryMb: 1024);

        var ok = await _store.UpdateAsync(updated, expectedVersion: 1);

        Assert.True(ok);
        AssertSameDefinition(updated, await _store.GetAsync("f"));
    }

    [Fact]
    public async Task UpdateAsync_StaleExpectedVersion_ReturnsFalseAndKeepsTheRow()
    {
        await _store.CreateAsync(Def("f", version: 1, memoryMb: 128));
        Assert.True(await _store.UpdateAsync(Def("f", version: 2, memoryMb: 256), expectedVersion: 1));

        var ok = await _store.UpdateAsync(Def("f", version: 2, memoryMb: 4096), expectedVersion: 1);

        Assert.False(ok);
        var stored = await _store.GetAsync("f");
        Assert.Equal(2, stored!.Revision);
        Assert.Equal(256, stored.MemoryMb);
    }

    [Fact]
    public async Task UpdateAsync_MissingFunction_ReturnsFalse()
    {
        Assert.False(await _store.UpdateAsync(Def("ghost", version: 2), expectedVersion: 1));
        Assert.Null(await _store.GetAsync("ghost"));
    }

    [Fact]
    public async Task DeleteAsync_Existing_ReturnsTrueThenFalse()
    {
        await _store.CreateAsync(Def("gone"));
        await _store.CreateAsync(Def("stays"));

        Assert.True(await _store.DeleteAsync("gone"));
        Assert.False(await _store.DeleteAsync("gone"));
        Assert.Null(await _store.GetAsync("gone"));
        Assert.Equal(["stays"], (await _store.ListAsync()).Select(f => f.Name));
    }

    [Fact]
    public async Task DeleteAsync_ThenCreate_SameNameWorks()
    {
        await _store.CreateAsync(Def("again", memoryMb: 128));
        await _store.DeleteAsync("again");

        await _store.CreateAsync(Def("again", memoryMb: 512));

        Assert.Equal(512, (await _store.GetAsync("again"))!.MemoryMb);
    }

    [Fact]
    public async Task Reopened_AfterRestart_SeesTheData()
    {
        await _store.CreateAsync(Def("kept", version: 1));
        await _store.CreateAsync(Def("deleted"));
        Assert.True(await _store.UpdateAsync(Def("kept", version: 2, memoryMb: 2048), expectedVersion: 1));
        Assert.True(await _store.DeleteAsync("deleted"));
        var reopened = new SqlFunctionStore(Reopen()); // no connection of the "old process" survives

        var list = await reopened.ListAsync();
        var kept = Assert.Single(list);
        AssertSameDefinition(Def("kept", version: 2, memoryMb: 2048), kept);
        Assert.Null(await reopened.GetAsync("deleted"));
    }
}
