using System.Collections.Concurrent;
using Tern.Core.Functions;

namespace Tern.Storage.Caching;

/// <summary>Keeps definitions in memory so the invoke path does not query the database per call. Writes go through
/// to the inner store and update the cache. Alone on its store (SQLite) the daemon is the only writer, so an entry
/// stays until this daemon changes it. Sharing the store (Postgres), another daemon may change a definition: then an
/// entry is kept for <paramref name="ttl"/> only, so a change made elsewhere is seen here within that long (a TTL
/// rather than LISTEN/NOTIFY: one indexed read per function per TTL, and nothing to lose when a connection drops).</summary>
/// <param name="ttl">How long an entry is trusted; null: until this daemon changes it.</param>
internal sealed class CachingFunctionStore(IFunctionStore inner, TimeSpan? ttl = null) : IFunctionStore
{
    /// <summary>The completed task is what is kept, so a hit returns it as is: no allocation per call.</summary>
    private sealed record Entry(Task<FunctionDefinition?> Definition, long ExpiresAt);

    private readonly ConcurrentDictionary<string, Entry> _byName = new(StringComparer.Ordinal);
    private readonly long _ttlMs = ttl is { } t ? (long)t.TotalMilliseconds : long.MaxValue;

    public Task<FunctionDefinition?> GetAsync(string name, CancellationToken ct = default) =>
        _byName.TryGetValue(name, out var cached) && Environment.TickCount64 < cached.ExpiresAt ? cached.Definition : LoadAsync(name, ct);

    private async Task<FunctionDefinition?> LoadAsync(string name, CancellationToken ct)
    {
        var function = await inner.GetAsync(name, ct).ConfigureAwait(false);
        if (function is not null) Remember(function);
        else _byName.TryRemove(name, out _); // deleted elsewhere
        return function;
    }

    private void Remember(FunctionDefinition function) =>
        _byName[function.Name] = new Entry(Task.FromResult<FunctionDefinition?>(function),
            _ttlMs == long.MaxValue ? long.MaxValue : Environment.TickCount64 + _ttlMs);

    public Task<IReadOnlyList<FunctionDefinition>> ListAsync(CancellationToken ct = default) => inner.ListAsync(ct);

    public async Task CreateAsync(FunctionDefinition function, CancellationToken ct = default)
    {
        await inner.CreateAsync(function, ct).ConfigureAwait(false);
        Remember(function);
    }

    public async Task<bool> UpdateAsync(FunctionDefinition function, int expectedVersion, CancellationToken ct = default)
    {
        _byName.TryRemove(function.Name, out _);
        var updated = await inner.UpdateAsync(function, expectedVersion, ct).ConfigureAwait(false);
        if (updated) Remember(function);
        return updated;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct = default)
    {
        _byName.TryRemove(name, out _);
        return await inner.DeleteAsync(name, ct).ConfigureAwait(false);
    }
}
