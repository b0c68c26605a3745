using System.Security.Cryptography;
using System.Text;

namespace Tern.Storage.Secrets;

/// <summary>AES-256-GCM with the master key: a fresh 12-byte nonce per write, a 16-byte tag, and the secret's name as
/// associated data, so a ciphertext copied under another name fails to decrypt.</summary>
public sealed class SecretCipher : IDisposable
{
    public const int KeyBytes = 32;
    public const int NonceBytes = 12;
    public const int TagBytes = 16;

    /// <summary>Not thread-safe (its OpenSSL context is reused per call), and one cipher serves every request and worker
    /// start: each use holds its lock. (Concurrent PUT /v1/secrets failed with "cipher operation failed".)</summary>
    private readonly AesGcm _aes;

    public SecretCipher(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyBytes) throw new ArgumentException($"the master key must be {KeyBytes} bytes", nameof(key));
        _aes = new AesGcm(key, TagBytes);
    }

    public SealedSecret Encrypt(string name, string value)
    {
        var plain = Encoding.UTF8.GetBytes(value);
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var cipher = new byte[plain.Length];
        var tag = new byte[TagBytes];
        try
        {
            lock (_aes) _aes.Encrypt(nonce, plain, cipher, tag, Encoding.UTF8.GetBytes(name));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
        return new SealedSecret(nonce, cipher, tag);
    }

    /// <summary>Throws <see cref="CryptographicException"/> when the key, the name or any byte does not match.</summary>
    public string Decrypt(string name, SealedSecret sealedSecret)
    {
        if (sealedSecret.Nonce.Length != NonceBytes || sealedSecret.Tag.Length != TagBytes)
            throw new CryptographicException("the stored secret is malformed");
        var plain = new byte[sealedSecret.Ciphertext.Length];
        try
        {
            lock (_aes) _aes.Decrypt(sealedSecret.Nonce, sealedSecret.Ciphertext, sealedSecret.Tag, plain, Encoding.UTF8.GetBytes(name));
            return Encoding.UTF8.GetString(plain);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    public void Dispose() => _aes.Dispose();
}

/// <summary>One encrypted value as stored: nonce, ciphertext and tag.</summary>
public sealed record SealedSecret(byte[] Nonce, byte[] Ciphertext, byte[] Tag);
