using System.Data.Common;
using Tern.Storage.ApiKeys;

namespace Tern.Storage.Sql;

/// <summary>API keys in SQLite or Postgres (table api_keys: only the SHA-256 of a key; times are UTC ticks).</summary>
internal sealed class SqlApiKeyStore(IStoreDatabase database) : IApiKeyStore
{
    private const string Columns = "id, name, prefix, hash, created_at, revoked_at, rate_limit_per_second, role, created_by";

    public async Task<bool> CreateAsync(ApiKey key, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command(
            $"INSERT INTO api_keys ({Columns}) VALUES (@id, @name, @prefix, @hash, @created, @revoked, @rate, @role, @createdBy)")
            .Bind("@id", key.Id).Bind("@name", key.Name).Bind("@prefix", key.Prefix).Bind("@hash", key.Hash)
            .Bind("@created", key.CreatedAt.UtcTicks).Bind("@revoked", key.RevokedAt?.UtcTicks).Bind("@rate", key.RateLimitPerSecond)
            .Bind("@role", key.Role.Name()).Bind("@createdBy", key.CreatedBy);
        try
        {
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return true;
        }
        catch (DbException e) when (database.Dialect.IsUniqueViolation(e))
        {
            return false;
        }
    }

    public async Task<ApiKey?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command($"SELECT {Columns} FROM api_keys WHERE id = @id").Bind("@id", id);
        return await command.ReadFirstAsync(Read, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command($"SELECT {Columns} FROM api_keys ORDER BY created_at, id");
        return await command.ReadAllAsync(Read, ct).ConfigureAwait(false);
    }

    public async Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command("UPDATE api_keys SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL")
            .Bind("@id", id).Bind("@at", at.UtcTicks);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task<int> CountActiveAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command("SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL");
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct).ConfigureAwait(false));
    }

    private static ApiKey Read(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        (byte[])reader.GetValue(3),
        reader.Ticks(4),
        reader.TicksOrNull(5),
        reader.Int32OrNull(6),
        // An unknown role read back (a newer version's?) gets the least rights, never more.
        ApiKeyRoles.TryParse(reader.GetString(7), out var role) ? role : ApiKeyRole.Read,
        reader.StringOrNull(8));
}
