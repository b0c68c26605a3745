using Tern.Storage.ApiKeys;

namespace Tern.Api.Auth;

/// <summary>Creating, listing, revoking and checking API keys over <see cref="IApiKeyStore"/>.</summary>
public sealed class ApiKeyService(IApiKeyStore store, TimeProvider time, ApiKeyAuthOptions options)
{
    public const string BootstrapKeyName = "admin";

    internal ApiKeyRateLimiter Limiter { get; } = new();

    public bool AuthEnabled => options.Enabled;

    /// <summary>A new key: the stored record, and the key itself (which exists nowhere else afterwards).</summary>
    public async Task<(ApiKey Record, string Key)> CreateAsync(string name, int? rateLimitPerSecond, CancellationToken ct = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (key, id, hash) = ApiKeySecret.Generate();
            var record = new ApiKey(id, name, ApiKeySecret.Prefix + id, hash, time.GetUtcNow(), null, rateLimitPerSecond);
            if (await store.CreateAsync(record, ct)) return (record, key);
            if (attempt == 5) throw new InvalidOperationException("could not find a free API key id");
        }
    }

    public Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken ct = default) => store.ListAsync(ct);

    public async Task<bool> RevokeAsync(string id, CancellationToken ct = default)
    {
        var revoked = await store.RevokeAsync(id, time.GetUtcNow(), ct);
        Limiter.Forget(id);
        return revoked;
    }

    /// <summary>The unrevoked key a presented key matches, or null.</summary>
    public async Task<ApiKey?> AuthenticateAsync(string presented, CancellationToken ct = default)
    {
        if (!ApiKeySecret.TryGetId(presented, out var id)) return null;
        var record = await store.GetAsync(id, ct);
        return record is { IsRevoked: false } && ApiKeySecret.Verify(presented, record.Hash) ? record : null;
    }

    /// <summary>With auth on and no unrevoked key, nobody could create one over the API: this makes the first
    /// ("admin") and returns it. Null when auth is off or a usable key exists.</summary>
    public async Task<string?> CreateBootstrapKeyIfNeededAsync(CancellationToken ct = default)
    {
        if (!options.Enabled || await store.CountActiveAsync(ct) > 0) return null;
        var (_, key) = await CreateAsync(BootstrapKeyName, null, ct);
        return key;
    }
}

/// <summary>Whether the daemon requires API keys (resolved from DaemonOptions.Auth and the listen address).</summary>
public sealed record ApiKeyAuthOptions(bool Enabled);
