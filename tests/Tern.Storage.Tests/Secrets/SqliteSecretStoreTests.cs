using Microsoft.Data.Sqlite;
using System.Security.Cryptography;
using System.Text;
using Tern.Storage.Secrets;
using Tern.Storage.Sql;
using Tern.Storage.Sqlite;

namespace Tern.Storage.Tests.Secrets;

/// <summary>SQLite only: what is in the database files, and upgrades from older SQLite schemas (the contract is in
/// Contract/SecretStoreContract.cs).</summary>
public sealed class SqliteSecretStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    private SqlSecretStore NewStore(byte[]? key = null) =>
        new(new SqliteDatabase(_dir.Combine("tern.db")), new SecretCipher(key ?? _key));

    [Fact]
    public async Task TheDatabaseFilesNeverHoldThePlainValue()
    {
        var store = NewStore();
        var value = "plain-" + Guid.NewGuid().ToString("N");
        await store.SetAsync("api_token", value, ["*"]);
        await store.SetAsync("api_token", value); // a second version of the row, in the WAL too
        Assert.Equal(value, (await store.ResolveAsync("api_token", "fn")).Value);

        foreach (var file in Directory.GetFiles(_dir.Path))
        {
            if (!File.Exists(file)) continue; // SQLite removes its -wal/-shm files when the last connection closes
            byte[] bytes;
            try { bytes = await ReadSharedAsync(file); }
            catch (FileNotFoundException) { continue; }
            Assert.DoesNotContain(value, Encoding.UTF8.GetString(bytes));
        }
    }

    [Fact]
    public async Task Scope_SecretsFromBeforeScopes_AreGrantedToEveryFunction()
    {
        var cipher = new SecretCipher(_key);
        var sealedValue = cipher.Encrypt("old", "v1");
        using (var connection = new SqliteConnection($"Data Source={_dir.Combine("tern.db")};Pooling=False"))
        using (var command = connection.CreateCommand())
        {
            connection.Open();
            // The table as the release before scopes made it, with one secret in it.
            command.CommandText = """
                CREATE TABLE secrets (name TEXT PRIMARY KEY, nonce BLOB NOT NULL, ciphertext BLOB NOT NULL, tag BLOB NOT NULL,
                                      created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
                INSERT INTO secrets VALUES ('old', $n, $c, $t, '2025-01-01T00:00:00.0000000+00:00', '2025-01-01T00:00:00.0000000+00:00');
                """;
            command.Parameters.AddWithValue("$n", sealedValue.Nonce);
            command.Parameters.AddWithValue("$c", sealedValue.Ciphertext);
            command.Parameters.AddWithValue("$t", sealedValue.Tag);
            command.ExecuteNonQuery();
        }
        var store = NewStore();
        Assert.Equal(["*"], (await store.GetAsync("old"))!.Functions);
        Assert.Equal("v1", (await store.ResolveAsync("old", "any-function")).Value);
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }
}
