using System.Security.Cryptography;
using Tern.Storage.Secrets;

namespace Tern.Storage.Tests.Secrets;

public sealed class MasterKeyTests
{
    [Fact]
    public void Load_NoEnv_CreatesKeyFile0600_AndReusesIt()
    {
        using var dir = new TempDir();
        var first = MasterKey.Load(dir.Path, null);
        var path = dir.Combine(MasterKey.FileName);
        Assert.True(File.Exists(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(32, first.Length);
        Assert.Equal(32, Convert.FromBase64String(File.ReadAllText(path).Trim()).Length);

        var second = MasterKey.Load(dir.Path, null);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Load_EnvKey_WinsAndNoFileIsCreated()
    {
        using var dir = new TempDir();
        var key = RandomNumberGenerator.GetBytes(32);
        Assert.Equal(key, MasterKey.Load(dir.Path, Convert.ToBase64String(key)));
        Assert.False(File.Exists(dir.Combine(MasterKey.FileName)));
    }

    [Theory]
    [InlineData("not base64 !!")]
    [InlineData("AAAA")] // 3 bytes
    public void Load_InvalidEnvKey_ThrowsClearError(string bad)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<MasterKeyException>(() => MasterKey.Load(dir.Path, bad));
        Assert.Contains(MasterKey.EnvironmentVariable, e.Message);
    }

    [Fact]
    public void Load_CorruptKeyFile_ThrowsClearError()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine(MasterKey.FileName), "garbage");
        var e = Assert.Throws<MasterKeyException>(() => MasterKey.Load(dir.Path, null));
        Assert.Contains(MasterKey.FileName, e.Message);
    }
}
