using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Tern.Storage.ApiKeys;

/// <summary>Making and checking API keys. A key is "tern_" + 32 random bytes in base64url (43 characters); its
/// first 8 random characters are its id, so a presented key finds its row without a scan.
/// <para>Only SHA-256 of the key is stored. A fast, unsalted hash is right here: the key is 256 bits from a CSPRNG,
/// so there is nothing to brute-force or look up in a table, and a slow password hash (bcrypt, Argon2) would only
/// add its cost to every request. Hashes are compared in constant time.</para></summary>
public static class ApiKeySecret
{
    public const string Prefix = "tern_";
    public const int IdLength = 8;
    private const int RandomBytes = 32;
    private const int EncodedLength = 43; // base64url of 32 bytes, unpadded

    /// <summary>A new random key, its id and its hash.</summary>
    public static (string Key, string Id, byte[] Hash) Generate()
    {
        var key = Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes));
        return (key, key.Substring(Prefix.Length, IdLength), Hash(key));
    }

    /// <summary>The id inside a well-formed key; false for anything that cannot be a Tern key.</summary>
    public static bool TryGetId(string? key, out string id)
    {
        id = "";
        if (key is null || key.Length != Prefix.Length + EncodedLength || !key.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        foreach (var c in key.AsSpan(Prefix.Length))
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        id = key.Substring(Prefix.Length, IdLength);
        return true;
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>True when <paramref name="key"/> hashes to <paramref name="storedHash"/> (constant-time compare).</summary>
    public static bool Verify(string key, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(key), storedHash);
}
