using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tern.Core.Functions;

namespace Tern.Storage.Sqlite;

/// <summary>Functions in SQLite: one row per name, the definition as JSON, the version for optimistic updates.</summary>
internal sealed class SqliteFunctionStore(SqliteDatabase database) : IFunctionStore
{
    private const int SqliteConstraintPrimaryKey = 1555;

    public async Task<FunctionDefinition?> GetAsync(string name, CancellationToken ct = default)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT definition FROM functions WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is string json ? Deserialize(json) : null;
    }

    public async Task<IReadOnlyList<FunctionDefinition>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT definition FROM functions ORDER BY name";
        var list = new List<FunctionDefinition>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) list.Add(Deserialize(reader.GetString(0)));
        return list;
    }

    public async Task CreateAsync(FunctionDefinition function, CancellationToken ct = default)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO functions (name, version, definition, updated_at) VALUES ($name, $version, $definition, $updated)";
        Bind(command, function);
        try
        {
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteExtendedErrorCode == SqliteConstraintPrimaryKey)
        {
            throw new FunctionAlreadyExistsException(function.Name);
        }
    }

    public async Task<bool> UpdateAsync(FunctionDefinition function, int expectedVersion, CancellationToken ct = default)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE functions SET version = $version, definition = $definition, updated_at = $updated
            WHERE name = $name AND version = $expected
            """;
        Bind(command, function);
        command.Parameters.AddWithValue("$expected", expectedVersion);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct = default)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM functions WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    private static void Bind(SqliteCommand command, FunctionDefinition function)
    {
        command.Parameters.AddWithValue("$name", function.Name);
        command.Parameters.AddWithValue("$version", function.Revision);
        command.Parameters.AddWithValue("$definition", JsonSerializer.Serialize(function, StorageJsonContext.Default.FunctionDefinition));
        command.Parameters.AddWithValue("$updated", function.UpdatedAt.ToString("O"));
    }

    private static FunctionDefinition Deserialize(string json) =>
        JsonSerializer.Deserialize(json, StorageJsonContext.Default.FunctionDefinition)
        ?? throw new InvalidDataException("stored function definition is empty");
}
