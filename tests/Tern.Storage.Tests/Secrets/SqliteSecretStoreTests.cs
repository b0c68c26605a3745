using Microsoft.Data.Sqlite;
using System.Security.Cryptography;
using System.Text;
using Tern.Storage.Secrets;
using Tern.Storage.Sqlite;

namespace Tern.Storage.Tests.Secrets;

public sealed class SqliteSecretStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    private SqliteSecretStore NewStore(byte[]? key = null) =>
        new(new SqliteDatabase(_dir.Combine("tern.db")), new SecretCipher(key ?? _key));

    [Fact]
    public async Task SetListResolveDelete_Works_AndTheDatabaseNeverHoldsThePlainValue()
    {
        var store = NewStore();
        var value = "plain-" + Guid.NewGuid().ToString("N");
        var (info, created) = await store.SetAsync("api_token", value, ["*"]);
        Assert.True(created);
        Assert.Equal("api_token", info.Name);
        var (_, createdAgain) = await store.SetAsync("api_token", value);
        Assert.False(createdAgain);

        Assert.Equal(["api_token"], (await store.ListAsync()).Select(s => s.Name));
        Assert.Equal(new SecretLookup(SecretLookupStatus.Found, value), await store.ResolveAsync("api_token", "fn"));
        Assert.Equal(SecretLookupStatus.NotFound, (await store.ResolveAsync("missing", "fn")).Status);

        foreach (var file in Directory.GetFiles(_dir.Path))
        {
            if (!File.Exists(file)) continue; // SQLite removes its -wal/-shm files when the last connection closes
            byte[] bytes;
            try { bytes = await ReadSharedAsync(file); }
            catch (FileNotFoundException) { continue; }
            Assert.DoesNotContain(value, Encoding.UTF8.GetString(bytes));
        }

        Assert.True(await store.DeleteAsync("api_token"));
        Assert.False(await store.DeleteAsync("api_token"));
        Assert.Equal(SecretLookupStatus.NotFound, (await store.ResolveAsync("api_token", "fn")).Status);
    }

    [Fact]
    public async Task Scope_NewSecretIsGrantedToNoFunction_UntilScoped_AndAValueChangeKeepsTheScope()
    {
        var store = NewStore();
        var (info, _) = await store.SetAsync("db", "pw");
        Assert.Empty(info.Functions);
        Assert.Equal(SecretLookupStatus.NotGranted, (await store.ResolveAsync("db", "api")).Status);

        Assert.Equal(["api", "billing-*"], (await store.SetScopeAsync("db", ["api", " billing-*", "api"]))!.Functions);
        Assert.Equal("pw", (await store.ResolveAsync("db", "api")).Value);
        Assert.Equal("pw", (await store.ResolveAsync("db", "billing-eu")).Value);
        Assert.Equal(SecretLookupStatus.NotGranted, (await store.ResolveAsync("db", "apix")).Status);

        var (changed, _) = await store.SetAsync("db", "pw2");
        Assert.Equal(["api", "billing-*"], changed.Functions);
        Assert.Equal(["*"], (await store.SetScopeAsync("db", ["api", "*"]))!.Functions);
        Assert.Equal("pw2", (await store.ResolveAsync("db", "anything")).Value);
        Assert.Null(await store.SetScopeAsync("missing", ["api"]));
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("a,b")]
    [InlineData("**")]
    [InlineData("")]
    public async Task Scope_BadEntry_Throws(string entry)
    {
        var store = NewStore();
        await store.SetAsync("db", "pw");
        await Assert.ThrowsAsync<SecretValidationException>(() => store.SetScopeAsync("db", [entry]));
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

    [Theory]
    [InlineData("")]
    [InlineData("1starts_with_digit")]
    [InlineData("has space")]
    [InlineData("has/slash")]
    public async Task Set_BadName_Throws(string name) =>
        await Assert.ThrowsAsync<SecretValidationException>(() => NewStore().SetAsync(name, "v"));

    [Fact]
    public async Task Set_TooLargeValue_ThrowsWithoutQuotingIt()
    {
        var value = new string('x', SecretRules.MaxValueBytes + 1);
        var e = await Assert.ThrowsAsync<SecretValidationException>(() => NewStore().SetAsync("big", value));
        Assert.DoesNotContain("xxxx", e.Message);
    }

    [Fact]
    public async Task VerifyKey_AnotherKey_ThrowsMasterKeyException()
    {
        await NewStore().SetAsync("a", "v");
        NewStore().VerifyKey();
        Assert.Throws<MasterKeyException>(() => NewStore(RandomNumberGenerator.GetBytes(32)).VerifyKey());
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
