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
        var (info, created) = await store.SetAsync("api_token", value);
        Assert.True(created);
        Assert.Equal("api_token", info.Name);
        var (_, createdAgain) = await store.SetAsync("api_token", value);
        Assert.False(createdAgain);

        Assert.Equal(["api_token"], (await store.ListAsync()).Select(s => s.Name));
        Assert.Equal(value, await store.ResolveAsync("api_token"));
        Assert.Null(await store.ResolveAsync("missing"));

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
        Assert.Null(await store.ResolveAsync("api_token"));
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
