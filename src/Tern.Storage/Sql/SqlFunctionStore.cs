using System.Data.Common;
using System.Text.Json;
using Tern.Core.Functions;

namespace Tern.Storage.Sql;

/// <summary>Functions in SQLite or Postgres: one row per name, the definition as JSON, the version for optimistic updates.</summary>
internal sealed class SqlFunctionStore(IStoreDatabase database) : IFunctionStore
{
    public async Task<FunctionDefinition?> GetAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command("SELECT definition FROM functions WHERE name = @name").Bind("@name", name);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is string json ? Deserialize(json) : null;
    }

    public async Task<IReadOnlyList<FunctionDefinition>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command("SELECT definition FROM functions ORDER BY name");
        return await command.ReadAllAsync(r => Deserialize(r.GetString(0)), ct).ConfigureAwait(false);
    }

    public async Task CreateAsync(FunctionDefinition function, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = Bind(connection.Command(
            "INSERT INTO functions (name, version, definition, updated_at) VALUES (@name, @version, @definition, @updated)"), function);
        try
        {
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (DbException e) when (database.Dialect.IsUniqueViolation(e))
        {
            throw new FunctionAlreadyExistsException(function.Name);
        }
    }

    public async Task<bool> UpdateAsync(FunctionDefinition function, int expectedVersion, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = Bind(connection.Command("""
            UPDATE functions SET version = @version, definition = @definition, updated_at = @updated
            WHERE name = @name AND version = @expected
            """), function).Bind("@expected", expectedVersion);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = connection.Command("DELETE FROM functions WHERE name = @name").Bind("@name", name);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    private static DbCommand Bind(DbCommand command, FunctionDefinition function) => command
        .Bind("@name", function.Name)
        .Bind("@version", function.Revision)
        .Bind("@definition", JsonSerializer.Serialize(function, StorageJsonContext.Default.FunctionDefinition))
        .Bind("@updated", function.UpdatedAt.ToString("O"));

    private static FunctionDefinition Deserialize(string json) =>
        JsonSerializer.Deserialize(json, StorageJsonContext.Default.FunctionDefinition)
        ?? throw new InvalidDataException("stored function definition is empty");
}
