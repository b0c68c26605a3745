using Microsoft.Data.Sqlite;
using Tern.Storage.ApiKeys;
using Tern.Storage.Sql;
using Tern.Storage.Sqlite;

namespace Tern.Storage.Tests.Sqlite;

/// <summary>SQLite only: upgrades from older SQLite schemas (the contract is in Contract/ApiKeyStoreContract.cs).</summary>
public sealed class SqliteApiKeyUpgradeTests : IDisposable
{
    private static readonly DateTimeOffset Created = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly TempDir _temp = new();

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
        var stored = await new SqlApiKeyStore(new SqliteDatabase(path)).GetAsync(old.Id);
        Assert.Equal(ApiKeyRole.Admin, stored!.Role);
        Assert.Null(stored.CreatedBy);
        Assert.True(ApiKeySecret.Verify(key, stored.Hash));
    }
}
