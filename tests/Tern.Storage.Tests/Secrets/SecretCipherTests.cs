using System.Security.Cryptography;
using Tern.Storage.Secrets;

namespace Tern.Storage.Tests.Secrets;

public sealed class SecretCipherTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void EncryptDecrypt_RoundTrips_AndCiphertextIsNotThePlainText()
    {
        using var cipher = new SecretCipher(Key);
        var value = "s3cr3t-" + Guid.NewGuid();
        var sealedSecret = cipher.Encrypt("api_token", value);
        Assert.Equal(12, sealedSecret.Nonce.Length);
        Assert.Equal(16, sealedSecret.Tag.Length);
        Assert.DoesNotContain(value, System.Text.Encoding.UTF8.GetString(sealedSecret.Ciphertext));
        Assert.Equal(value, cipher.Decrypt("api_token", sealedSecret));
    }

    /// <summary>One cipher serves every request and worker start at once (concurrent PUT /v1/secrets failed with an
    /// OpenSSL error before its uses were serialized).</summary>
    [Fact]
    public void EncryptDecrypt_FromManyThreadsAtOnce_AllRoundTrip()
    {
        using var cipher = new SecretCipher(Key);
        var failures = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, thread =>
        {
            for (var i = 0; i < 600; i++)
            {
                var value = $"value-{thread}-{i}-" + new string('x', 60_000);
                try
                {
                    if (cipher.Decrypt($"name{thread}", cipher.Encrypt($"name{thread}", value)) != value) Interlocked.Increment(ref failures);
                }
                catch (CryptographicException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });
        Assert.Equal(0, failures);
    }

    [Fact]
    public void Encrypt_UsesAFreshNonceEachTime()
    {
        using var cipher = new SecretCipher(Key);
        var a = cipher.Encrypt("n", "same");
        var b = cipher.Encrypt("n", "same");
        Assert.NotEqual(a.Nonce, b.Nonce);
        Assert.NotEqual(a.Ciphertext, b.Ciphertext);
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("tag")]
    [InlineData("nonce")]
    public void Decrypt_FlippedByte_Fails(string part)
    {
        using var cipher = new SecretCipher(Key);
        var s = cipher.Encrypt("api_token", "value-to-protect");
        var target = part switch { "ciphertext" => s.Ciphertext, "tag" => s.Tag, _ => s.Nonce };
        target[0] ^= 0x01;
        Assert.ThrowsAny<CryptographicException>(() => cipher.Decrypt("api_token", s));
    }

    [Fact]
    public void Decrypt_UnderAnotherName_Fails()
    {
        using var cipher = new SecretCipher(Key);
        var s = cipher.Encrypt("api_token", "value-to-protect");
        Assert.ThrowsAny<CryptographicException>(() => cipher.Decrypt("other_token", s));
    }

    [Fact]
    public void Decrypt_WithAnotherKey_Fails()
    {
        using var cipher = new SecretCipher(Key);
        using var other = new SecretCipher(RandomNumberGenerator.GetBytes(32));
        var s = cipher.Encrypt("api_token", "value-to-protect");
        Assert.ThrowsAny<CryptographicException>(() => other.Decrypt("api_token", s));
    }

    [Fact]
    public void Constructor_WrongKeyLength_Throws() =>
        Assert.Throws<ArgumentException>(() => new SecretCipher(new byte[16]));
}
