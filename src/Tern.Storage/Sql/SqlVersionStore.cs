using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Tern.Core.Functions;

namespace Tern.Storage.Sql;

/// <summary>Versions and aliases in SQLite or Postgres: function_versions (the snapshot as JSON) and function_aliases.</summary>
internal sealed class SqlVersionStore(IStoreDatabase database) : IVersionStore
{
    private const string VersionColumns = "function, version, revision, description, published_at, definition";
    private const string AliasColumns = "function, alias, version, additional_version, additional_weight, previous_version, description, updated_at";
    private readonly SemaphoreSlim _publish = new(1, 1);

    public async Task<PublishedVersion> PublishAsync(FunctionDefinition definition, string? description, DateTimeOffset at, CancellationToken ct = default)
    {
        // One publisher at a time picks the next number: in this daemon by the semaphore, across daemons sharing a
        // Postgres by a lock on the function's name held until the transaction ends (SQLite has one writer anyway).
        await _publish.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            if (database.Dialect.KeyLockSql is { } lockSql)
            {
                await using var keyLock = connection.Command(lockSql, transaction).Bind("@lockKey", "version:" + definition.Name);
                await keyLock.ExecuteScalarAsync(ct).ConfigureAwait(false);
            }
            PublishedVersion? newest;
            await using (var latest = connection.Command(
                $"SELECT {VersionColumns} FROM function_versions WHERE function = @f ORDER BY version DESC LIMIT 1", transaction).Bind("@f", definition.Name))
                newest = await latest.ReadFirstAsync(Read, ct).ConfigureAwait(false);
            if (newest is not null && newest.Revision == definition.Revision && newest.Definition.CodeHash == definition.CodeHash)
                return newest;

            var published = new PublishedVersion
            {
                Function = definition.Name, Version = (newest?.Version ?? 0) + 1, Revision = definition.Revision,
                Description = description, PublishedAt = at, Definition = definition,
            };
            await using (var insert = connection.Command(
                $"INSERT INTO function_versions ({VersionColumns}) VALUES (@f, @v, @r, @d, @p, @def)", transaction)
                .Bind("@f", published.Function).Bind("@v", published.Version).Bind("@r", published.Revision).Bind("@d", description)
                .Bind("@p", at.ToString("O")).Bind("@def", JsonSerializer.Serialize(definition, StorageJsonContext.Default.FunctionDefinition)))
                await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return published;
        }
        finally
        {
            _publish.Release();
        }
    }

    public async Task<IReadOnlyList<PublishedVersion>> ListAsync(string function, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command($"SELECT {VersionColumns} FROM function_versions WHERE function = @f ORDER BY version")
            .Bind("@f", function);
        return await command.ReadAllAsync(Read, ct).ConfigureAwait(false);
    }

    public async Task<PublishedVersion?> GetAsync(string function, int version, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command($"SELECT {VersionColumns} FROM function_versions WHERE function = @f AND version = @v")
            .Bind("@f", function).Bind("@v", version);
        return await command.ReadFirstAsync(Read, ct).ConfigureAwait(false);
    }

    public async Task<FunctionAlias?> GetAliasAsync(string function, string alias, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command($"SELECT {AliasColumns} FROM function_aliases WHERE function = @f AND alias = @a")
            .Bind("@f", function).Bind("@a", alias);
        return await command.ReadFirstAsync(ReadAlias, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<FunctionAlias>> ListAliasesAsync(string function, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command($"SELECT {AliasColumns} FROM function_aliases WHERE function = @f ORDER BY alias")
            .Bind("@f", function);
        return await command.ReadAllAsync(ReadAlias, ct).ConfigureAwait(false);
    }

    public async Task<bool> PutAliasAsync(FunctionAlias alias, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        bool existed;
        await using (var count = connection.Command("SELECT count(*) FROM function_aliases WHERE function = @f AND alias = @a", transaction)
            .Bind("@f", alias.Function).Bind("@a", alias.Name))
            existed = Convert.ToInt64(await count.ExecuteScalarAsync(ct).ConfigureAwait(false)) > 0;
        await using (var upsert = connection.Command($"""
            INSERT INTO function_aliases ({AliasColumns}) VALUES (@f, @a, @v, @av, @aw, @pv, @d, @u)
            ON CONFLICT (function, alias) DO UPDATE SET version = @v, additional_version = @av, additional_weight = @aw,
                previous_version = @pv, description = @d, updated_at = @u
            """, transaction)
            .Bind("@f", alias.Function).Bind("@a", alias.Name).Bind("@v", alias.Version).Bind("@av", alias.AdditionalVersion)
            .Bind("@aw", alias.AdditionalWeight).Bind("@pv", alias.PreviousVersion).Bind("@d", alias.Description).Bind("@u", alias.UpdatedAt.ToString("O")))
            await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return !existed;
    }

    public async Task<bool> DeleteAliasAsync(string function, string alias, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command("DELETE FROM function_aliases WHERE function = @f AND alias = @a")
            .Bind("@f", function).Bind("@a", alias);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task DeleteFunctionAsync(string function, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        foreach (var table in new[] { "function_aliases", "function_versions" })
        {
            await using var command = connection.Command($"DELETE FROM {table} WHERE function = @f", transaction).Bind("@f", function);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    private static PublishedVersion Read(DbDataReader r) => new()
    {
        Function = r.GetString(0), Version = r.GetInt32(1), Revision = r.GetInt32(2),
        Description = r.StringOrNull(3), PublishedAt = DateTimeOffset.Parse(r.GetString(4), CultureInfo.InvariantCulture),
        Definition = JsonSerializer.Deserialize(r.GetString(5), StorageJsonContext.Default.FunctionDefinition)
            ?? throw new InvalidDataException("stored version definition is empty"),
    };

    private static FunctionAlias ReadAlias(DbDataReader r) => new()
    {
        Function = r.GetString(0), Name = r.GetString(1), Version = r.GetInt32(2),
        AdditionalVersion = r.Int32OrNull(3), AdditionalWeight = r.Int32OrNull(4), PreviousVersion = r.Int32OrNull(5),
        Description = r.StringOrNull(6), UpdatedAt = DateTimeOffset.Parse(r.GetString(7), CultureInfo.InvariantCulture),
    };
}
