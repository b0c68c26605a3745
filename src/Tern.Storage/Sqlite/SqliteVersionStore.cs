using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tern.Core.Functions;

namespace Tern.Storage.Sqlite;

/// <summary>Versions and aliases in SQLite: function_versions (the snapshot as JSON) and function_aliases.</summary>
internal sealed class SqliteVersionStore(SqliteDatabase database) : IVersionStore
{
    private readonly SqliteDatabase _database = database;
    private readonly Lock _publish = new();

    public Task<PublishedVersion> PublishAsync(FunctionDefinition definition, string? description, DateTimeOffset at, CancellationToken ct = default)
    {
        // One writer at a time picks the next number (single daemon per store).
        lock (_publish)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction();
            using var latest = connection.CreateCommand();
            latest.Transaction = transaction;
            latest.CommandText = """
                SELECT function, version, revision, description, published_at, definition FROM function_versions
                WHERE function = $f ORDER BY version DESC LIMIT 1
                """;
            latest.Parameters.AddWithValue("$f", definition.Name);
            PublishedVersion? newest = null;
            using (var reader = latest.ExecuteReader())
                if (reader.Read()) newest = Read(reader);
            if (newest is not null && newest.Revision == definition.Revision && newest.Definition.CodeHash == definition.CodeHash)
                return Task.FromResult(newest);

            var published = new PublishedVersion
            {
                Function = definition.Name, Version = (newest?.Version ?? 0) + 1, Revision = definition.Revision,
                Description = description, PublishedAt = at, Definition = definition,
            };
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO function_versions (function, version, revision, description, published_at, definition)
                VALUES ($f, $v, $r, $d, $p, $def)
                """;
            insert.Parameters.AddWithValue("$f", published.Function);
            insert.Parameters.AddWithValue("$v", published.Version);
            insert.Parameters.AddWithValue("$r", published.Revision);
            insert.Parameters.AddWithValue("$d", (object?)description ?? DBNull.Value);
            insert.Parameters.AddWithValue("$p", at.ToString("O"));
            insert.Parameters.AddWithValue("$def", JsonSerializer.Serialize(definition, StorageJsonContext.Default.FunctionDefinition));
            insert.ExecuteNonQuery();
            transaction.Commit();
            return Task.FromResult(published);
        }
    }

    public async Task<IReadOnlyList<PublishedVersion>> ListAsync(string function, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT function, version, revision, description, published_at, definition FROM function_versions WHERE function = $f ORDER BY version";
        command.Parameters.AddWithValue("$f", function);
        var list = new List<PublishedVersion>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) list.Add(Read(reader));
        return list;
    }

    public async Task<PublishedVersion?> GetAsync(string function, int version, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT function, version, revision, description, published_at, definition FROM function_versions WHERE function = $f AND version = $v";
        command.Parameters.AddWithValue("$f", function);
        command.Parameters.AddWithValue("$v", version);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? Read(reader) : null;
    }

    private const string AliasColumns = "function, alias, version, additional_version, additional_weight, previous_version, description, updated_at";

    public async Task<FunctionAlias?> GetAliasAsync(string function, string alias, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {AliasColumns} FROM function_aliases WHERE function = $f AND alias = $a";
        command.Parameters.AddWithValue("$f", function);
        command.Parameters.AddWithValue("$a", alias);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadAlias(reader) : null;
    }

    public async Task<IReadOnlyList<FunctionAlias>> ListAliasesAsync(string function, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {AliasColumns} FROM function_aliases WHERE function = $f ORDER BY alias";
        command.Parameters.AddWithValue("$f", function);
        var list = new List<FunctionAlias>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) list.Add(ReadAlias(reader));
        return list;
    }

    public async Task<bool> PutAliasAsync(FunctionAlias alias, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT count(*) FROM function_aliases WHERE function = $f AND alias = $a;
            INSERT OR REPLACE INTO function_aliases ({AliasColumns}) VALUES ($f, $a, $v, $av, $aw, $pv, $d, $u);
            """;
        command.Parameters.AddWithValue("$f", alias.Function);
        command.Parameters.AddWithValue("$a", alias.Name);
        command.Parameters.AddWithValue("$v", alias.Version);
        command.Parameters.AddWithValue("$av", (object?)alias.AdditionalVersion ?? DBNull.Value);
        command.Parameters.AddWithValue("$aw", (object?)alias.AdditionalWeight ?? DBNull.Value);
        command.Parameters.AddWithValue("$pv", (object?)alias.PreviousVersion ?? DBNull.Value);
        command.Parameters.AddWithValue("$d", (object?)alias.Description ?? DBNull.Value);
        command.Parameters.AddWithValue("$u", alias.UpdatedAt.ToString("O"));
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false)) == 0;
    }

    public async Task<bool> DeleteAliasAsync(string function, string alias, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM function_aliases WHERE function = $f AND alias = $a";
        command.Parameters.AddWithValue("$f", function);
        command.Parameters.AddWithValue("$a", alias);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task DeleteFunctionAsync(string function, CancellationToken ct = default)
    {
        await using var connection = _database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM function_aliases WHERE function = $f; DELETE FROM function_versions WHERE function = $f;";
        command.Parameters.AddWithValue("$f", function);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static PublishedVersion Read(SqliteDataReader r) => new()
    {
        Function = r.GetString(0), Version = r.GetInt32(1), Revision = r.GetInt32(2),
        Description = r.IsDBNull(3) ? null : r.GetString(3), PublishedAt = DateTimeOffset.Parse(r.GetString(4), System.Globalization.CultureInfo.InvariantCulture),
        Definition = JsonSerializer.Deserialize(r.GetString(5), StorageJsonContext.Default.FunctionDefinition)
            ?? throw new InvalidDataException("stored version definition is empty"),
    };

    private static FunctionAlias ReadAlias(SqliteDataReader r) => new()
    {
        Function = r.GetString(0), Name = r.GetString(1), Version = r.GetInt32(2),
        AdditionalVersion = r.IsDBNull(3) ? null : r.GetInt32(3), AdditionalWeight = r.IsDBNull(4) ? null : r.GetInt32(4),
        PreviousVersion = r.IsDBNull(5) ? null : r.GetInt32(5), Description = r.IsDBNull(6) ? null : r.GetString(6),
        UpdatedAt = DateTimeOffset.Parse(r.GetString(7), System.Globalization.CultureInfo.InvariantCulture),
    };
}
