using System.Collections.Concurrent;
using Tern.Core.Functions;

namespace Tern.Storage.Caching;

/// <summary>Keeps definitions in memory so the invoke path does not query the database per call. Writes go through
/// to the inner store and update the cache. Correct while this daemon is the only writer of its store; a shared
/// (Postgres) store will need change notifications before several daemons can use it.</summary>
internal sealed class CachingFunctionStore(IFunctionStore inner) : IFunctionStore
{
    // The completed task is what is kept, so a hit returns it as is: no allocation per call.
    private readonly ConcurrentDictionary<string, Task<FunctionDefinition?>> _byName = new(StringComparer.Ordinal);

    public Task<FunctionDefinition?> GetAsync(string name, CancellationToken ct = default) =>
        _byName.TryGetValue(name, out var cached) ? cached : LoadAsync(name, ct);

    private async Task<FunctionDefinition?> LoadAsync(string name, CancellationToken ct)
    {
        var function = await inner.GetAsync(name, ct).ConfigureAwait(false);
        if (function is not null) Remember(function);
        return function;
    }

    private void Remember(FunctionDefinition function) => _byName[function.Name] = Task.FromResult<FunctionDefinition?>(function);

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
