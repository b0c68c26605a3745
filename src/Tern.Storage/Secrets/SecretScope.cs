using Tern.Core.Functions;

namespace Tern.Storage.Secrets;

/// <summary>Which functions may use a secret: a list of function names, <c>prefix-*</c> patterns, or <c>*</c> for all.
/// <para>A secret made without a scope is granted to no function (least privilege: a deploy key that can name any
/// secret in an env could otherwise read every secret by deploying a function that prints its env). Secrets from before
/// scopes were granted to <c>*</c>, so an upgrade breaks no running function.</para></summary>
public static class SecretScope
{
    public const string All = "*";
    public const int MaxEntries = 100;

    /// <summary>True when <paramref name="function"/> is named by one of <paramref name="scope"/>'s entries.</summary>
    public static bool Allows(IReadOnlyList<string> scope, string function)
    {
        foreach (var entry in scope)
        {
            if (entry == All || entry == function) return true;
            if (entry.EndsWith('*') && function.StartsWith(entry.AsSpan(0, entry.Length - 1), StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>The scope, trimmed and without duplicates; throws <see cref="SecretValidationException"/> for an entry
    /// that is neither a function name nor a name prefix followed by *.</summary>
    public static IReadOnlyList<string> Normalize(IEnumerable<string?> entries)
    {
        var result = new List<string>();
        foreach (var raw in entries)
        {
            var entry = raw?.Trim() ?? "";
            var name = entry.EndsWith('*') ? entry[..^1] : entry;
            if (entry != All && !FunctionNames.IsValid(name))
                throw new SecretValidationException($"'{entry}' in functions is not a function name, a name prefix ending in *, or *");
            if (!result.Contains(entry)) result.Add(entry);
        }
        if (result.Count > MaxEntries) throw new SecretValidationException($"functions may list at most {MaxEntries} entries");
        return result.Contains(All) ? [All] : result;
    }

    /// <summary>Stored as one comma-separated column (no entry can hold a comma).</summary>
    public static string Format(IReadOnlyList<string> scope) => string.Join(',', scope);

    public static IReadOnlyList<string> Parse(string stored) =>
        stored.Length == 0 ? [] : stored.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
