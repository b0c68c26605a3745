using Tern.Core.Functions;

namespace Tern.Storage;

/// <summary>Published versions (immutable snapshots numbered 1..N per function) and aliases.</summary>
public interface IVersionStore
{
    /// <summary>Stores <paramref name="definition"/> as the function's next version. If the newest version already holds
    /// this exact revision, that version is returned instead (publishing twice without a change makes no new version).</summary>
    Task<PublishedVersion> PublishAsync(FunctionDefinition definition, string? description, DateTimeOffset at, CancellationToken ct = default);
    Task<IReadOnlyList<PublishedVersion>> ListAsync(string function, CancellationToken ct = default);
    Task<PublishedVersion?> GetAsync(string function, int version, CancellationToken ct = default);

    Task<FunctionAlias?> GetAliasAsync(string function, string alias, CancellationToken ct = default);
    Task<IReadOnlyList<FunctionAlias>> ListAliasesAsync(string function, CancellationToken ct = default);
    /// <summary>Creates or replaces; true when it was created.</summary>
    Task<bool> PutAliasAsync(FunctionAlias alias, CancellationToken ct = default);
    Task<bool> DeleteAliasAsync(string function, string alias, CancellationToken ct = default);

    /// <summary>Removes every version and alias of a function (it was deleted).</summary>
    Task DeleteFunctionAsync(string function, CancellationToken ct = default);
}
