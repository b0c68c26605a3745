using System.Security.Cryptography;

namespace Tern.Storage.Secrets;

/// <summary>The 32-byte master key: <c>TERN_MASTER_KEY</c> (base64) when set, else <c>{dataDir}/master.key</c>, created
/// on first start (32 random bytes as base64, mode 0600) and read on every start after.</summary>
public static class MasterKey
{
    public const string EnvironmentVariable = "TERN_MASTER_KEY";
    public const string FileName = "master.key";

    /// <summary>Throws <see cref="MasterKeyException"/> with a clear message when the key is unusable. A key is created
    /// only while no secret is stored: with secrets stored and the key gone, a new key could never open them, and
    /// writing one would only hide what happened.</summary>
    /// <param name="storedSecrets">How many secrets the store holds (encrypted with the key being loaded).</param>
    public static byte[] Load(string dataDir, string? fromEnvironment, long storedSecrets = 0)
    {
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return Decode(fromEnvironment, $"the {EnvironmentVariable} environment variable");

        var path = Path.Combine(dataDir, FileName);
        if (!File.Exists(path))
        {
            if (storedSecrets > 0)
                throw new MasterKeyException($"the master key file {path} is missing, but {storedSecrets} secret(s) are stored encrypted with it: " +
                    $"restore the file from a backup, or set {EnvironmentVariable} to the key; a new key would not open them");
            TryCreate(path);
        }
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MasterKeyException($"the master key file {path} could not be read: {e.Message}");
        }
        return Decode(text, $"the master key file {path}");
    }

    private static void TryCreate(string path)
    {
        var key = RandomNumberGenerator.GetBytes(SecretCipher.KeyBytes);
        try
        {
            // CreateNew with the mode set at creation: the key is never readable by others, and two daemons
            // starting at once cannot both write one.
            using var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            using var writer = new StreamWriter(stream);
            writer.Write(Convert.ToBase64String(key));
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Someone else created it first; read theirs.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MasterKeyException($"the master key file {path} could not be created: {e.Message}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static byte[] Decode(string text, string source)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new MasterKeyException($"{source} is not valid base64; it must hold {SecretCipher.KeyBytes} random bytes, base64-encoded");
        }
        if (key.Length != SecretCipher.KeyBytes)
            throw new MasterKeyException($"{source} holds {key.Length} bytes; the master key must be {SecretCipher.KeyBytes} bytes, base64-encoded");
        return key;
    }
}

/// <summary>The master key is missing, malformed or does not open the stored secrets: the daemon cannot start.</summary>
public sealed class MasterKeyException(string message) : Exception(message);
