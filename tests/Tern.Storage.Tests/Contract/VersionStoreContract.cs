using Tern.Core.Functions;
using Tern.Storage.Sql;

namespace Tern.Storage.Tests.Contract;

public sealed class SqliteVersionStoreTests : VersionStoreContract<SqliteBackend>;

public sealed class PostgresVersionStoreTests : VersionStoreContract<PostgresBackend>;

/// <summary>What every version store does (<see cref="SqlVersionStore"/> on SQLite and on Postgres): versions numbered
/// 1..N, a republish without a change makes none, aliases upserted.</summary>
public abstract class VersionStoreContract<TBackend> : StoreContract<TBackend> where TBackend : StoreBackend, new()
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 0, 0, TimeSpan.Zero);
    private SqlVersionStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = new SqlVersionStore(Database);
    }

    private static FunctionDefinition Def(string name, int revision, char hash = 'a') => new()
    {
        Name = name, Runtime = "python", Handler = "main.py", CodeHash = new string(hash, 64), CodeFileName = "main.py",
        CreatedAt = T0, UpdatedAt = T0, Revision = revision,
    };

    [Fact]
    public async Task Publish_NumbersVersions_AndARepublishWithoutAChangeMakesNone()
    {
        var v1 = await _store.PublishAsync(Def("f", 1), "first", T0);
        var same = await _store.PublishAsync(Def("f", 1), "again", T0.AddMinutes(1));
        var v2 = await _store.PublishAsync(Def("f", 1, hash: 'b'), null, T0.AddMinutes(2)); // new code, same revision
        var other = await _store.PublishAsync(Def("g", 7), null, T0);

        Assert.Equal((1, 1, 2, 1), (v1.Version, same.Version, v2.Version, other.Version));
        Assert.Equal("first", same.Description);
        Assert.Equal([1, 2], (await _store.ListAsync("f")).Select(v => v.Version));
        var stored = (await _store.GetAsync("f", 2))!;
        Assert.Equal((new string('b', 64), (string?)null, T0.AddMinutes(2)), (stored.Definition.CodeHash, stored.Description, stored.PublishedAt));
        Assert.Null(await _store.GetAsync("f", 3));
    }

    [Fact]
    public async Task Publish_Concurrently_GivesDistinctNumbers()
    {
        var published = await Task.WhenAll(Enumerable.Range(1, 10).Select(r => _store.PublishAsync(Def("f", r), null, T0)));
        Assert.Equal(Enumerable.Range(1, 10), published.Select(p => p.Version).Order());
        Assert.Equal(10, (await _store.ListAsync("f")).Count);
    }

    [Fact]
    public async Task Aliases_PutCreatesThenReplaces_ListedByName_DeletedWithTheFunction()
    {
        var alias = new FunctionAlias
        {
            Function = "f", Name = "prod", Version = 1, AdditionalVersion = 2, AdditionalWeight = 10, PreviousVersion = null,
            Description = "canary", UpdatedAt = T0,
        };
        Assert.True(await _store.PutAliasAsync(alias));
        Assert.False(await _store.PutAliasAsync(alias with { Version = 2, AdditionalVersion = null, AdditionalWeight = null, PreviousVersion = 1 }));
        Assert.True(await _store.PutAliasAsync(alias with { Name = "beta" }));

        Assert.Equal(alias with { Version = 2, AdditionalVersion = null, AdditionalWeight = null, PreviousVersion = 1 },
            await _store.GetAliasAsync("f", "prod"));
        Assert.Equal(["beta", "prod"], (await _store.ListAliasesAsync("f")).Select(a => a.Name));
        Assert.True(await _store.DeleteAliasAsync("f", "beta"));
        Assert.False(await _store.DeleteAliasAsync("f", "beta"));

        await _store.PublishAsync(Def("f", 1), null, T0);
        await _store.DeleteFunctionAsync("f");
        Assert.Empty(await _store.ListAsync("f"));
        Assert.Empty(await _store.ListAliasesAsync("f"));
    }
}
