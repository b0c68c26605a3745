namespace Tern.Storage.ApiKeys;

/// <summary>A stored API key: never the key itself, only its SHA-256 (see <see cref="ApiKeySecret"/>).</summary>
/// <param name="Id">8 characters, the start of the key's random part: how a presented key finds its row, and what
/// list and revoke show.</param>
/// <param name="Prefix">"tern_" + the id: the start of the key, for recognising it.</param>
/// <param name="RateLimitPerSecond">Requests per second this key may make; null = no per-key limit.</param>
/// <param name="Role">What the key may do (keys made before roles existed are admin).</param>
/// <param name="CreatedBy">Id of the key that created this one; null for the bootstrap key and keys from before roles.
/// A key only works while every key up this chain is unrevoked, and its requests count against their limits too.</param>
public sealed record ApiKey(
    string Id,
    string Name,
    string Prefix,
    byte[] Hash,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt,
    int? RateLimitPerSecond,
    ApiKeyRole Role = ApiKeyRole.Admin,
    string? CreatedBy = null)
{
    public bool IsRevoked => RevokedAt is not null;
}
