using System.Globalization;
using System.Security.Cryptography;
using System.Data.Common;
using Tern.Storage.Sql;

namespace Tern.Storage.Secrets;

/// <summary>Secrets in SQLite or Postgres, one row per name: nonce, ciphertext and tag of AES-256-GCM (never the plain value).</summary>
internal sealed class SqlSecretStore : ISecretStore, ISecretResolver
{
    private readonly IStoreDatabase _database;
    private readonly SecretCipher _cipher;
    private readonly TimeProvider _time;

    public SqlSecretStore(IStoreDatabase database, SecretCipher cipher, TimeProvider? time = null)
    {
        _database = database;
        _cipher = cipher;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How many secrets the database holds.</summary>
    public static long CountStored(IStoreDatabase database)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM secrets";
        return Convert.ToInt64(command.ExecuteScalar());
    }

    /// <summary>Checks that the master key opens a stored secret (if there is one); a different key than the one the
    /// secrets were written with is a <see cref="MasterKeyException"/> at startup rather than a failure at the first call.</summary>
    public void VerifyKey()
    {
        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, nonce, ciphertext, tag FROM secrets ORDER BY updated_at DESC LIMIT 1";
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return;
        var name = reader.GetString(0);
        try
        {
            _cipher.Decrypt(name, Sealed(reader));
        }
        catch (CryptographicException)
        {
            throw new MasterKeyException(
                $"the master key does not decrypt the stored secrets (secret '{name}'); start with the key they were written with " +
                $"({MasterKey.EnvironmentVariable} or {MasterKey.FileName} in the data directory)");
        }
    }

    public async Task<(SecretInfo Info, bool Created)> SetAsync(string name, string value, IReadOnlyList<string>? functions = null,
        CancellationToken ct = default)
    {
        SecretRules.Validate(name, value);
        var scope = functions is null ? null : SecretScope.Normalize(functions);
        var sealedSecret = _cipher.Encrypt(name, value);
        var now = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        string? createdAt = null;
        string storedScope = "";
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT created_at, functions FROM secrets WHERE name = @name";
            read.Bind("@name", name);
            await using var reader = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (await reader.ReadAsync(ct).ConfigureAwait(false)) (createdAt, storedScope) = (reader.GetString(0), reader.GetString(1));
        }
        var newScope = scope is null ? storedScope : SecretScope.Format(scope);
        await using (var write = connection.CreateCommand())
        {
            write.Transaction = transaction;
            write.CommandText = """
                INSERT INTO secrets (name, nonce, ciphertext, tag, created_at, updated_at, functions)
                VALUES (@name, @nonce, @cipher, @tag, @now, @now, @functions)
                ON CONFLICT (name) DO UPDATE SET nonce = @nonce, ciphertext = @cipher, tag = @tag, updated_at = @now, functions = @functions
                """;
            write.Bind("@functions", newScope);
            write.Bind("@name", name);
            write.Bind("@nonce", sealedSecret.Nonce);
            write.Bind("@cipher", sealedSecret.Ciphertext);
            write.Bind("@tag", sealedSecret.Tag);
            write.Bind("@now", now);
            await write.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return (new SecretInfo(name, Parse(createdAt ?? now), Parse(now), SecretScope.Parse(newScope)), createdAt is null);
    }

    public async Task<SecretInfo?> SetScopeAsync(string name, IReadOnlyList<string> functions, CancellationToken ct = default)
    {
        var scope = SecretScope.Normalize(functions);
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE secrets SET functions = @functions WHERE name = @name RETURNING {InfoColumns}";
        command.Bind("@name", name);
        command.Bind("@functions", SecretScope.Format(scope));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadInfo(reader) : null;
    }

    public async Task<SecretInfo?> GetAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {InfoColumns} FROM secrets WHERE name = @name";
        command.Bind("@name", name);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadInfo(reader) : null;
    }

    public async Task<IReadOnlyList<SecretInfo>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {InfoColumns} FROM secrets ORDER BY name";
        var list = new List<SecretInfo>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) list.Add(ReadInfo(reader));
        return list;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM secrets WHERE name = @name";
        command.Bind("@name", name);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task<SecretLookup> ResolveAsync(string name, string function, CancellationToken ct = default)
    {
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT nonce, ciphertext, tag, functions FROM secrets WHERE name = @name";
        command.Bind("@name", name);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return new SecretLookup(SecretLookupStatus.NotFound);
        // Checked before decrypting: a function outside the scope never has the value in this process's memory for it.
        if (!SecretScope.Allows(SecretScope.Parse(reader.GetString(3)), function)) return new SecretLookup(SecretLookupStatus.NotGranted);
        return new SecretLookup(SecretLookupStatus.Found,
            _cipher.Decrypt(name, new SealedSecret((byte[])reader[0], (byte[])reader[1], (byte[])reader[2])));
    }

    private const string InfoColumns = "name, created_at, updated_at, functions";

    private static SecretInfo ReadInfo(DbDataReader reader) =>
        new(reader.GetString(0), Parse(reader.GetString(1)), Parse(reader.GetString(2)), SecretScope.Parse(reader.GetString(3)));

    private static SealedSecret Sealed(DbDataReader reader) => new((byte[])reader[1], (byte[])reader[2], (byte[])reader[3]);

    private static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
