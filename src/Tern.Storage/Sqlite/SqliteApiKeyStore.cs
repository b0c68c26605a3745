using Microsoft.Data.Sqlite;
using Tern.Storage.ApiKeys;

namespace Tern.Storage.Sqlite;

/// <summary>API keys in SQLite (table api_keys, see <see cref="SqliteMigrations.ApiKeys"/>).</summary>
internal sealed class SqliteApiKeyStore(SqliteDatabase database) : IApiKeyStore
{
    private const int SqliteConstraintPrimaryKey = 1555;
    private const string Columns = "id, name, prefix, hash, created_at, revoked_at, rate_limit_per_second, role, created_by";
    private readonly SqliteDatabase _database = database;

    public async Task<bool> CreateAsync(ApiKey key, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO api_keys ({Columns}) VALUES ($id, $name, $prefix, $hash, $created, $revoked, $rate, $role, $createdBy)";
        command.Parameters.AddWithValue("$id", key.Id);
        command.Parameters.AddWithValue("$name", key.Name);
        command.Parameters.AddWithValue("$prefix", key.Prefix);
        command.Parameters.AddWithValue("$hash", key.Hash);
        command.Parameters.AddWithValue("$created", key.CreatedAt.UtcTicks);
        command.Parameters.AddWithValue("$revoked", (object?)key.RevokedAt?.UtcTicks ?? DBNull.Value);
        command.Parameters.AddWithValue("$rate", (object?)key.RateLimitPerSecond ?? DBNull.Value);
        command.Parameters.AddWithValue("$role", key.Role.Name());
        command.Parameters.AddWithValue("$createdBy", (object?)key.CreatedBy ?? DBNull.Value);
        try
        {
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return true;
        }
        catch (SqliteException e) when (e.SqliteExtendedErrorCode == SqliteConstraintPrimaryKey)
        {
            return false;
        }
    }

    public async Task<ApiKey?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM api_keys WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM api_keys ORDER BY created_at, id";
        var list = new List<ApiKey>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) list.Add(Read(reader));
        return list;
    }

    public async Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE api_keys SET revoked_at = $at WHERE id = $id AND revoked_at IS NULL";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$at", at.UtcTicks);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task<int> CountActiveAsync(CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL";
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct).ConfigureAwait(false));
    }

    private static ApiKey Read(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        (byte[])reader.GetValue(3),
        new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero),
        reader.IsDBNull(5) ? null : new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero),
        reader.IsDBNull(6) ? null : reader.GetInt32(6),
        // An unknown role read back (a newer version's?) gets the least rights, never more.
        ApiKeyRoles.TryParse(reader.GetString(7), out var role) ? role : ApiKeyRole.Read,
        reader.IsDBNull(8) ? null : reader.GetString(8));
}
