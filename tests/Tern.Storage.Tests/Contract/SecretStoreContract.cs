using System.Security.Cryptography;
using System.Text;
using Tern.Storage.Secrets;
using Tern.Storage.Sql;

namespace Tern.Storage.Tests.Contract;

public sealed class SqliteSecretStoreContractTests : SecretStoreContract<SqliteBackend>;

public sealed class PostgresSecretStoreTests : SecretStoreContract<PostgresBackend>;

/// <summary>What every secret store does (<see cref="SqlSecretStore"/> on SQLite and on Postgres): values encrypted,
/// scopes, key verification.</summary>
public abstract class SecretStoreContract<TBackend> : StoreContract<TBackend> where TBackend : StoreBackend, new()
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    private SqlSecretStore NewStore(byte[]? key = null) => new(Database, new SecretCipher(key ?? _key));

    [Fact]
    public async Task SetListResolveDelete_Works_AndNoColumnHoldsThePlainValue()
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

        await using (var connection = await Database.OpenConnectionAsync())
        await using (var command = connection.Command("SELECT name, nonce, ciphertext, tag, created_at, updated_at, functions FROM secrets"))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                for (var i = 0; i < reader.FieldCount; i++)
                    Assert.DoesNotContain(value, reader.GetValue(i) is byte[] bytes ? Encoding.UTF8.GetString(bytes) : reader.GetString(i));

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
}
