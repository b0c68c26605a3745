using Tern.Storage.ApiKeys;

namespace Tern.Api.Auth;

/// <summary>Creating, listing, revoking and checking API keys over <see cref="IApiKeyStore"/>, with the rules that
/// keep a key from raising its own rights: a key creates only keys no stronger and no faster than itself, whose
/// requests also count against its own limit (so minting keys multiplies nothing), and which die with it.</summary>
public sealed class ApiKeyService(IApiKeyStore store, TimeProvider time, ApiKeyAuthOptions options)
{
    public const string BootstrapKeyName = "admin";
    /// <summary>How far up a chain of creators is followed; deeper chains are refused at creation.</summary>
    public const int MaxChainDepth = 8;

    internal ApiKeyRateLimiter Limiter { get; } = new();
    internal AuthFailureThrottle FailureThrottle { get; } = new(time);

    public bool AuthEnabled => options.Enabled;

    /// <summary>A new key: the stored record, and the key itself (which exists nowhere else afterwards).</summary>
    public async Task<(ApiKey Record, string Key)> CreateAsync(string name, int? rateLimitPerSecond, ApiKeyRole role = ApiKeyRole.Admin,
        string? createdBy = null, CancellationToken ct = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (key, id, hash) = ApiKeySecret.Generate();
            var record = new ApiKey(id, name, ApiKeySecret.Prefix + id, hash, time.GetUtcNow(), null, rateLimitPerSecond, role, createdBy);
            if (await store.CreateAsync(record, ct)) return (record, key);
            if (attempt == 5) throw new InvalidOperationException("could not find a free API key id");
        }
    }

    /// <summary>Why <paramref name="caller"/> may not create a key with this role and limit, or null when it may.</summary>
    public static string? RefuseCreate(AuthenticatedKey authenticated, ApiKeyRole role, int? rateLimitPerSecond)
    {
        var caller = authenticated.Key;
        if (role > caller.Role)
            return $"a {caller.Role.Name()} key cannot create a {role.Name()} key: a new key may have at most its creator's role";
        if (caller.RateLimitPerSecond is int own && (rateLimitPerSecond is null || rateLimitPerSecond > own))
            return $"this key is limited to {own} requests per second, so a key it creates must set rateLimitPerSecond from 1 to {own}";
        if (authenticated.Creators.Count + 1 >= MaxChainDepth)
            return $"keys may be created at most {MaxChainDepth} levels below a key with no creator";
        return null;
    }

    /// <summary>The keys <paramref name="caller"/> may see: all for admin, else itself and the keys it created
    /// (directly or further down).</summary>
    public async Task<IReadOnlyList<ApiKey>> ListAsync(ApiKey? caller, CancellationToken ct = default)
    {
        var all = await store.ListAsync(ct);
        if (caller is null || caller.Role == ApiKeyRole.Admin) return all;
        var byId = all.ToDictionary(k => k.Id, StringComparer.Ordinal);
        return [.. all.Where(k => k.Id == caller.Id || IsCreatedBy(k, caller.Id, byId))];
    }

    /// <summary>Revokes <paramref name="id"/> if <paramref name="caller"/> may: an admin any key (but not the last
    /// working admin key, which would lock everyone out), any other key itself and the keys it created, never an admin
    /// key. Null caller = auth off, where anything goes.</summary>
    public async Task<RevokeOutcome> RevokeAsync(string id, ApiKey? caller, CancellationToken ct = default)
    {
        var target = await store.GetAsync(id, ct);
        if (target is null || target.IsRevoked) return RevokeOutcome.NotFound;
        if (caller is not null && caller.Role != ApiKeyRole.Admin)
        {
            if (target.Role == ApiKeyRole.Admin) return RevokeOutcome.Forbidden;
            var all = (await store.ListAsync(ct)).ToDictionary(k => k.Id, StringComparer.Ordinal);
            if (target.Id != caller.Id && !IsCreatedBy(target, caller.Id, all)) return RevokeOutcome.NotFound; // not yours: not shown
        }
        if (target.Role == ApiKeyRole.Admin && target.CreatedBy is null && await CountWorkingRootAdminsAsync(ct) <= 1)
            return RevokeOutcome.LastAdmin;
        var revoked = await store.RevokeAsync(id, time.GetUtcNow(), ct);
        Limiter.Forget(id);
        return revoked ? RevokeOutcome.Revoked : RevokeOutcome.NotFound;
    }

    /// <summary>The key a presented key matches, with its creators (nearest first), when it and all of them are
    /// unrevoked; otherwise null.</summary>
    public async Task<AuthenticatedKey?> AuthenticateAsync(string presented, CancellationToken ct = default)
    {
        if (!ApiKeySecret.TryGetId(presented, out var id)) return null;
        var record = await store.GetAsync(id, ct);
        if (record is not { IsRevoked: false } || !ApiKeySecret.Verify(presented, record.Hash)) return null;
        return await WithCreatorsAsync(record, ct);
    }

    /// <summary>The unrevoked key with this id (or "tern_" + id), with its creators, when <paramref name="proves"/> says
    /// the request proves it holds the key (a SigV4 signature made with the key's signing secret); otherwise null.</summary>
    public async Task<AuthenticatedKey?> AuthenticateByIdAsync(string id, Func<ApiKey, Task<bool>> proves, CancellationToken ct = default)
    {
        if (id.StartsWith(ApiKeySecret.Prefix, StringComparison.Ordinal)) id = id[ApiKeySecret.Prefix.Length..];
        if (id.Length != ApiKeySecret.IdLength) return null;
        var record = await store.GetAsync(id, ct);
        if (record is not { IsRevoked: false } || !await proves(record)) return null;
        return await WithCreatorsAsync(record, ct);
    }

    private async Task<AuthenticatedKey?> WithCreatorsAsync(ApiKey record, CancellationToken ct)
    {
        if (record.CreatedBy is null) return new AuthenticatedKey(record, []);
        var creators = new List<ApiKey>();
        for (var parentId = record.CreatedBy; parentId is not null; )
        {
            var parent = await store.GetAsync(parentId, ct);
            if (parent is not { IsRevoked: false } || creators.Count >= MaxChainDepth) return null;
            creators.Add(parent);
            parentId = parent.CreatedBy;
        }
        return new AuthenticatedKey(record, creators);
    }

    /// <summary>With auth on and no unrevoked key, nobody could create one over the API: this makes the first
    /// ("admin") and returns it. Null when auth is off or a usable key exists.</summary>
    public async Task<string?> CreateBootstrapKeyIfNeededAsync(CancellationToken ct = default)
    {
        if (!options.Enabled || await CountWorkingRootAdminsAsync(ct) > 0) return null;
        var (_, key) = await CreateAsync(BootstrapKeyName, null, ApiKeyRole.Admin, null, ct);
        return key;
    }

    private async Task<int> CountWorkingRootAdminsAsync(CancellationToken ct) =>
        (await store.ListAsync(ct)).Count(k => !k.IsRevoked && k.Role == ApiKeyRole.Admin && k.CreatedBy is null);

    private static bool IsCreatedBy(ApiKey key, string creatorId, Dictionary<string, ApiKey> byId)
    {
        for (var (parent, depth) = (key.CreatedBy, 0); parent is not null && depth <= MaxChainDepth; depth++)
        {
            if (parent == creatorId) return true;
            parent = byId.TryGetValue(parent, out var next) ? next.CreatedBy : null;
        }
        return false;
    }
}

/// <summary>A key that authenticated, and the chain of keys that created it (nearest first; empty for a root key).</summary>
public sealed record AuthenticatedKey(ApiKey Key, IReadOnlyList<ApiKey> Creators);

public enum RevokeOutcome
{
    Revoked,
    NotFound,
    Forbidden,
    LastAdmin,
}

/// <summary>Whether the daemon requires API keys (resolved from DaemonOptions.Auth and the listen address).</summary>
public sealed record ApiKeyAuthOptions(bool Enabled);
