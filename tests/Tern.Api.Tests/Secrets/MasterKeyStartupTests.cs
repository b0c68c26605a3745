using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Tern.Storage.Secrets;
using Tern.Testing;

namespace Tern.Api.Tests.Secrets;

/// <summary>The master key file is created on first start and reused; a different key is a clear startup error.</summary>
public sealed class MasterKeyStartupTests : IAsyncLifetime
{
    private readonly DaemonFixture _daemon = new();

    public Task InitializeAsync() => _daemon.InitializeAsync();
    public Task DisposeAsync() => _daemon.DisposeAsync();

    [Fact]
    public async Task Restart_SameKeyFile_KeepsSecrets_AnotherKey_FailsAtStartup()
    {
        var keyFile = Path.Combine(_daemon.DataDir, MasterKey.FileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        using (var put = await _daemon.Client.PutAsJsonAsync("/v1/secrets/kept", new { value = "v" }))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        await _daemon.StopAsync();
        await _daemon.StartAsync();
        Assert.Contains("kept", await _daemon.Client.GetStringAsync("/v1/secrets"));

        await _daemon.StopAsync();
        File.WriteAllText(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var e = await Assert.ThrowsAsync<MasterKeyException>(() => _daemon.StartAsync());
        Assert.Contains("master key does not decrypt", e.Message);

        File.WriteAllText(keyFile, "not a key");
        e = await Assert.ThrowsAsync<MasterKeyException>(() => _daemon.StartAsync());
        Assert.Contains("not valid base64", e.Message);
    }

    [Fact]
    public async Task Restart_KeyFileDeletedWhileSecretsAreStored_FailsClearly_AndWritesNoNewKey()
    {
        var keyFile = Path.Combine(_daemon.DataDir, MasterKey.FileName);
        using (var put = await _daemon.Client.PutAsJsonAsync("/v1/secrets/precious", new { value = "v" }))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await _daemon.StopAsync();
        File.Delete(keyFile);

        var e = await Assert.ThrowsAsync<MasterKeyException>(() => _daemon.StartAsync());

        Assert.Contains("is missing, but 1 secret(s) are stored", e.Message);
        Assert.Contains(MasterKey.EnvironmentVariable, e.Message);
        Assert.False(File.Exists(keyFile), "a new, wrong key must not be written");
    }
}
