using Tern.Storage.ApiKeys;
using Tern.Storage.Sql;

namespace Tern.Storage.Tests.Contract;

public sealed class SqliteApiKeyStoreTests : ApiKeyStoreContract<SqliteBackend>;

public sealed class PostgresApiKeyStoreTests : ApiKeyStoreContract<PostgresBackend>;

/// <summary>What every API key store does (<see cref="SqlApiKeyStore"/> on SQLite and on Postgres).</summary>
public abstract class ApiKeyStoreContract<TBackend> : StoreContract<TBackend> where TBackend : StoreBackend, new()
{
    private static readonly DateTimeOffset Created = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private SqlApiKeyStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = new SqlApiKeyStore(Database);
    }

    private static (ApiKey Record, string Key) NewKey(string name, int? rate = null)
    {
        var (key, id, hash) = ApiKeySecret.Generate();
        return (new ApiKey(id, name, ApiKeySecret.Prefix + id, hash, Created, null, rate), key);
    }

    [Fact]
    public async Task CreateGetList_RoundTripsEveryFieldButNeverTheKey()
    {
        var (record, key) = NewKey("ci", 100);
        Assert.True(await _store.CreateAsync(record));
        var stored = await _store.GetAsync(record.Id);
        Assert.NotNull(stored);
        Assert.Equal(("ci", record.Prefix, Created, (DateTimeOffset?)null, (int?)100),
            (stored.Name, stored.Prefix, stored.CreatedAt, stored.RevokedAt, stored.RateLimitPerSecond));
        Assert.True(ApiKeySecret.Verify(key, stored.Hash));
        Assert.Single(await _store.ListAsync());
        Assert.Equal(1, await _store.CountActiveAsync());
        Assert.False(await _store.CreateAsync(record)); // same id
    }

    [Fact]
    public async Task Revoke_SetsRevokedAtOnce_AndKeepsTheRow()
    {
        var (record, _) = NewKey("gone");
        await _store.CreateAsync(record);
        Assert.True(await _store.RevokeAsync(record.Id, Created.AddHours(1)));
        Assert.False(await _store.RevokeAsync(record.Id, Created.AddHours(2)));
        Assert.False(await _store.RevokeAsync("missing1", Created));
        var stored = await _store.GetAsync(record.Id);
        Assert.Equal(Created.AddHours(1), stored!.RevokedAt);
        Assert.Equal(0, await _store.CountActiveAsync());
        Assert.Single(await _store.ListAsync());
    }

    [Fact]
    public async Task RoleAndCreator_RoundTrip()
    {
        var (parent, _) = NewKey("parent");
        var (key, _) = NewKey("child", 5);
        await _store.CreateAsync(parent);
        await _store.CreateAsync(key with { Role = ApiKeyRole.Invoke, CreatedBy = parent.Id });
        var stored = await _store.GetAsync(key.Id);
        Assert.Equal((ApiKeyRole.Invoke, parent.Id), (stored!.Role, stored.CreatedBy));
        Assert.Equal((ApiKeyRole.Admin, (string?)null), ((await _store.GetAsync(parent.Id))!.Role, (await _store.GetAsync(parent.Id))!.CreatedBy));
    }
}
