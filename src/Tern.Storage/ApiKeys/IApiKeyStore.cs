namespace Tern.Storage.ApiKeys;

/// <summary>API keys, durable. Revoking keeps the row (revoked_at set) so the list still shows it.</summary>
public interface IApiKeyStore
{
    /// <summary>Returns false when the id is already taken (a new key should then be generated).</summary>
    Task<bool> CreateAsync(ApiKey key, CancellationToken ct = default);
    Task<ApiKey?> GetAsync(string id, CancellationToken ct = default);
    /// <summary>Oldest first.</summary>
    Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken ct = default);
    /// <summary>True when an unrevoked key with this id existed and is now revoked; false when there is none.</summary>
    Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken ct = default);
    Task<int> CountActiveAsync(CancellationToken ct = default);
}
