using System.Text.RegularExpressions;

namespace Tern.Core.Functions;

/// <summary>An immutable snapshot of a function (code and configuration) published under a number 1..N of its own.
/// <see cref="Version"/> is the published version number; <see cref="Revision"/> is the definition's config revision
/// (FunctionDefinition.Version, bumped by every update) at the time it was published.</summary>
public sealed record PublishedVersion
{
    public required string Function { get; init; }
    public required int Version { get; init; }
    public int Revision { get; init; }
    public string? Description { get; init; }
    public DateTimeOffset PublishedAt { get; init; }
    public required FunctionDefinition Definition { get; init; }
}

/// <summary>A name for one published version, or a weighted split: <see cref="AdditionalWeight"/> percent of calls go to
/// <see cref="AdditionalVersion"/>, the rest to <see cref="Version"/>. <see cref="PreviousVersion"/> is what
/// <see cref="Version"/> was before the last change (for rollback).</summary>
public sealed record FunctionAlias
{
    public required string Function { get; init; }
    public required string Name { get; init; }
    public required int Version { get; init; }
    public int? AdditionalVersion { get; init; }
    public int? AdditionalWeight { get; init; }
    public int? PreviousVersion { get; init; }
    public string? Description { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>The body of PUT /v1/functions/{name}/aliases/{alias}.</summary>
public sealed record AliasSettings
{
    public int? Version { get; init; }
    public int? AdditionalVersion { get; init; }
    public int? AdditionalWeight { get; init; }
    public string? Description { get; init; }
}

/// <summary>The body of POST /v1/functions/{name}/versions (optional) and of :rollback (optional version).</summary>
public sealed record PublishSettings
{
    public string? Description { get; init; }
    public int? Version { get; init; }
}

public sealed class VersionNotFoundException(string function, string qualifier)
    : Exception($"function '{function}' has no version or alias '{qualifier}'");

public static partial class Qualifiers
{
    public const string Latest = "$LATEST";

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,31}$")]
    private static partial Regex AliasPattern();

    /// <summary>An alias name: a lowercase letter, then up to 31 of a-z 0-9 _ - (so never all digits).</summary>
    public static bool IsValidAlias(string? name) => name is not null && AliasPattern().IsMatch(name);

    /// <summary>A version number 1..N written in plain digits.</summary>
    public static bool TryParseVersion(string qualifier, out int version) =>
        int.TryParse(qualifier, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out version)
        && version >= 1;

    /// <summary>Null when valid ($LATEST, a version number or an alias name); otherwise what is wrong.</summary>
    public static string? Check(string qualifier) =>
        qualifier == Latest || TryParseVersion(qualifier, out _) || IsValidAlias(qualifier) ? null
            : $"qualifier '{qualifier}' must be $LATEST, a version number (1, 2, ...) or an alias name (^[a-z][a-z0-9_-]{{0,31}}$)";
}
