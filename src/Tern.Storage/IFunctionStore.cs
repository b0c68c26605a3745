using Tern.Core.Functions;

namespace Tern.Storage;

/// <summary>Function definitions, durable. SQLite by default; a Postgres implementation plugs in behind the same interface.</summary>
public interface IFunctionStore
{
    Task<FunctionDefinition?> GetAsync(string name, CancellationToken ct = default);
    Task<IReadOnlyList<FunctionDefinition>> ListAsync(CancellationToken ct = default);
    /// <summary>Throws FunctionAlreadyExistsException when the name is taken.</summary>
    Task CreateAsync(FunctionDefinition function, CancellationToken ct = default);
    /// <summary>Replaces a definition if its stored version is still <paramref name="expectedVersion"/>; false otherwise.</summary>
    Task<bool> UpdateAsync(FunctionDefinition function, int expectedVersion, CancellationToken ct = default);
    Task<bool> DeleteAsync(string name, CancellationToken ct = default);
}
