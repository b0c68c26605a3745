using Tern.Core.Functions;
using Tern.Storage;

namespace Tern.Registry;

/// <summary>Publishes versions and manages aliases (a name for one version, or a weighted split between two).
/// Deleting a function deletes its versions and aliases (as an IFunctionObserver).</summary>
public sealed class FunctionVersions(IFunctionStore functions, IVersionStore versions, TimeProvider time) : IFunctionObserver
{
    public async Task<PublishedVersion> PublishAsync(string name, string? description, CancellationToken ct)
    {
        var function = await FunctionAsync(name, ct).ConfigureAwait(false);
        if (description is { Length: > 256 }) throw new FunctionValidationException("description", "description may be at most 256 characters.");
        return await versions.PublishAsync(function, description, time.GetUtcNow(), ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<PublishedVersion>> ListAsync(string name, CancellationToken ct)
    {
        await FunctionAsync(name, ct).ConfigureAwait(false);
        return await versions.ListAsync(name, ct).ConfigureAwait(false);
    }

    public async Task<PublishedVersion> GetAsync(string name, int version, CancellationToken ct)
    {
        await FunctionAsync(name, ct).ConfigureAwait(false);
        return await versions.GetAsync(name, version, ct).ConfigureAwait(false)
            ?? throw new VersionNotFoundException(name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task<IReadOnlyList<FunctionAlias>> ListAliasesAsync(string name, CancellationToken ct)
    {
        await FunctionAsync(name, ct).ConfigureAwait(false);
        return await versions.ListAliasesAsync(name, ct).ConfigureAwait(false);
    }

    public async Task<FunctionAlias> GetAliasAsync(string name, string alias, CancellationToken ct)
    {
        await FunctionAsync(name, ct).ConfigureAwait(false);
        return await versions.GetAliasAsync(name, alias, ct).ConfigureAwait(false) ?? throw new VersionNotFoundException(name, alias);
    }

    /// <summary>Creates or replaces an alias; true when created. The version(s) must exist (a 400 names the field if not).</summary>
    public async Task<(FunctionAlias Alias, bool Created)> SetAliasAsync(string name, string alias, AliasSettings s, CancellationToken ct)
    {
        await FunctionAsync(name, ct).ConfigureAwait(false);
        var errors = new Dictionary<string, string[]>();
        if (!Qualifiers.IsValidAlias(alias)) errors["alias"] = ["an alias name is ^[a-z][a-z0-9_-]{0,31}$ (it starts with a letter, so it is never a version number)."];
        if (s.Version is not int version) errors["version"] = ["version is required: the published version the alias points to."];
        else if (await versions.GetAsync(name, version, ct).ConfigureAwait(false) is null) errors["version"] = [$"version {version} is not published."];
        if (s.AdditionalVersion is int extra)
        {
            if (await versions.GetAsync(name, extra, ct).ConfigureAwait(false) is null) errors["additionalVersion"] = [$"version {extra} is not published."];
            else if (extra == s.Version) errors["additionalVersion"] = ["additionalVersion must differ from version."];
            if (s.AdditionalWeight is not (>= 0 and <= 100)) errors["additionalWeight"] = ["additionalWeight (percent of calls sent to additionalVersion) must be 0..100."];
        }
        else if (s.AdditionalWeight is not null) errors["additionalWeight"] = ["additionalWeight needs additionalVersion."];
        if (s.Description is { Length: > 256 }) errors["description"] = ["description may be at most 256 characters."];
        if (errors.Count > 0) throw new FunctionValidationException(errors);

        var existing = await versions.GetAliasAsync(name, alias, ct).ConfigureAwait(false);
        var updated = new FunctionAlias
        {
            Function = name, Name = alias, Version = s.Version!.Value,
            AdditionalVersion = s.AdditionalVersion, AdditionalWeight = s.AdditionalVersion is null ? null : s.AdditionalWeight,
            PreviousVersion = existing is null ? null : existing.Version != s.Version ? existing.Version : existing.PreviousVersion,
            Description = s.Description ?? existing?.Description, UpdatedAt = time.GetUtcNow(),
        };
        var created = await versions.PutAliasAsync(updated, ct).ConfigureAwait(false);
        return (updated, created);
    }

    /// <summary>Points the alias at <paramref name="version"/>, or at the version it pointed to before; drops any split.</summary>
    public async Task<FunctionAlias> RollbackAsync(string name, string alias, int? version, CancellationToken ct)
    {
        var existing = await GetAliasAsync(name, alias, ct).ConfigureAwait(false);
        var target = version ?? existing.PreviousVersion
            ?? throw new FunctionValidationException("version", $"alias '{alias}' has no earlier version to roll back to; give one: {{\"version\": N}}.");
        var (updated, _) = await SetAliasAsync(name, alias, new AliasSettings { Version = target }, ct).ConfigureAwait(false);
        return updated;
    }

    public async Task DeleteAliasAsync(string name, string alias, CancellationToken ct)
    {
        await FunctionAsync(name, ct).ConfigureAwait(false);
        if (!await versions.DeleteAliasAsync(name, alias, ct).ConfigureAwait(false)) throw new VersionNotFoundException(name, alias);
    }

    public void OnFunctionChanged(string name, FunctionDefinition? current)
    {
        if (current is null) versions.DeleteFunctionAsync(name).GetAwaiter().GetResult();
    }

    private async Task<FunctionDefinition> FunctionAsync(string name, CancellationToken ct) =>
        await functions.GetAsync(name, ct).ConfigureAwait(false) ?? throw new FunctionNotFoundException(name);
}
