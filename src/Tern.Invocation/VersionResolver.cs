using System.Collections.Concurrent;
using System.Globalization;
using Tern.Core.Functions;
using Tern.Storage;

namespace Tern.Invocation;

/// <summary>What a call runs: a definition, and the published version it is (null for $LATEST).</summary>
public sealed record ResolvedFunction(FunctionDefinition Definition, int? PublishedVersion)
{
    /// <summary>"3", or "$LATEST".</summary>
    public string Label { get; } = PublishedVersion?.ToString(CultureInfo.InvariantCulture) ?? Qualifiers.Latest;
    /// <summary>Published versions get pools of their own ("name@v3"); $LATEST keeps the function's pool.</summary>
    public string PoolKey { get; } = PublishedVersion is int v ? $"{Definition.Name}@v{v}" : Definition.Name;
}

/// <summary>Turns name + qualifier (null or $LATEST, a version number, an alias) into the definition to run. An alias
/// with a split picks its additional version with the alias's weight, per call.</summary>
/// <param name="random">Draws the split; tests pass a fixed one. Random.Shared by default.</param>
public sealed class VersionResolver(IFunctionStore functions, IVersionStore versions, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;

    /// <summary>$LATEST of each function, kept while its definition is current: most calls resolve to it.</summary>
    private readonly ConcurrentDictionary<string, ResolvedFunction> _latest = new(StringComparer.Ordinal);

    public async ValueTask<ResolvedFunction> ResolveAsync(string name, string? qualifier, CancellationToken ct)
    {
        var latest = await functions.GetAsync(name, ct).ConfigureAwait(false) ?? throw new FunctionNotFoundException(name);
        if (qualifier is null or Qualifiers.Latest)
        {
            if (_latest.TryGetValue(name, out var known) && ReferenceEquals(known.Definition, latest)) return known;
            return _latest[name] = new(latest, null);
        }
        if (Qualifiers.Check(qualifier) is { } problem) throw new FunctionValidationException("qualifier", problem);
        if (!Qualifiers.TryParseVersion(qualifier, out var version))
        {
            var alias = await versions.GetAliasAsync(name, qualifier, ct).ConfigureAwait(false) ?? throw new VersionNotFoundException(name, qualifier);
            version = alias is { AdditionalVersion: int extra, AdditionalWeight: int weight } && _random.Next(100) < weight
                ? extra : alias.Version;
        }
        var published = await versions.GetAsync(name, version, ct).ConfigureAwait(false) ?? throw new VersionNotFoundException(name, qualifier);
        return new(published.Definition, published.Version);
    }
}
