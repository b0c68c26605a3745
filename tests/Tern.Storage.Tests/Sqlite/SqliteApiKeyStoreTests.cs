using Microsoft.Data.Sqlite;
using Tern.Storage.ApiKeys;
using Tern.Storage.Sqlite;

namespace Tern.Storage.Tests.Sqlite;

public sealed class SqliteApiKeyStoreTests : IDisposable
{
    private static readonly DateTimeOffset Created = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly TempDir _temp = new();
    private readonly SqliteApiKeyStore _store;

    public SqliteApiKeyStoreTests() => _store = new SqliteApiKeyStore(new SqliteDatabase(_temp.Combine("tern.db")));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
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

    [Fact]
    public async Task KeysFromBeforeRoles_BecomeAdmin_SoAnUpgradeLocksNobodyOut()
    {
        var path = _temp.Combine("old.db");
        var (old, key) = NewKey("old");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        using (var command = connection.CreateCommand())
        {
            connection.Open();
            // The table as the previous release made it.
            command.CommandText = """
                CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL, hash BLOB NOT NULL,
                                       created_at INTEGER NOT NULL, revoked_at INTEGER, rate_limit_per_second INTEGER);
                INSERT INTO api_keys VALUES ($id, 'old', $prefix, $hash, 1, NULL, NULL);
                """;
            command.Parameters.AddWithValue("$id", old.Id);
            command.Parameters.AddWithValue("$prefix", old.Prefix);
            command.Parameters.AddWithValue("$hash", old.Hash);
            command.ExecuteNonQuery();
        }
        var stored = await new SqliteApiKeyStore(new SqliteDatabase(path)).GetAsync(old.Id);
        Assert.Equal(ApiKeyRole.Admin, stored!.Role);
        Assert.Null(stored.CreatedBy);
        Assert.True(ApiKeySecret.Verify(key, stored.Hash));
    }
}
