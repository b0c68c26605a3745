using Tern.Api.Auth;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Tests.Auth;

public sealed class ApiKeySecretTests
{
    [Fact]
    public void Generate_MakesAPrefixedKeyWhoseHashVerifies()
    {
        var (key, id, hash) = ApiKeySecret.Generate();
        Assert.StartsWith("tern_", key);
        Assert.Equal(5 + 43, key.Length);
        Assert.Equal(key.Substring(5, 8), id);
        Assert.Equal(32, hash.Length);
        Assert.Equal(hash, ApiKeySecret.Hash(key));
        Assert.True(ApiKeySecret.Verify(key, hash));
        Assert.True(ApiKeySecret.TryGetId(key, out var parsed));
        Assert.Equal(id, parsed);
    }

    [Fact]
    public void Verify_RejectsAnyOtherKey()
    {
        var (key, _, hash) = ApiKeySecret.Generate();
        var (other, _, _) = ApiKeySecret.Generate();
        Assert.NotEqual(key, other);
        Assert.False(ApiKeySecret.Verify(other, hash));
        Assert.False(ApiKeySecret.Verify(key[..^1] + (key[^1] == 'x' ? 'y' : 'x'), hash));
        Assert.False(ApiKeySecret.Verify(key, new byte[32]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("tern_short")]
    [InlineData("nope_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("tern_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    public void TryGetId_RejectsMalformedKeys(string? key) => Assert.False(ApiKeySecret.TryGetId(key, out _));

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://127.3.4.5:8080", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://10.1.2.3:8080", false)]
    public void AutoAuth_IsOffOnlyOnLoopback(string listenUrl, bool loopback)
    {
        Assert.Equal(loopback, AuthModes.IsLoopback(listenUrl));
        Assert.Equal(!loopback, AuthModes.IsEnabled(AuthMode.Auto, listenUrl));
        Assert.True(AuthModes.IsEnabled(AuthMode.On, listenUrl));
        Assert.False(AuthModes.IsEnabled(AuthMode.Off, listenUrl));
    }
}
