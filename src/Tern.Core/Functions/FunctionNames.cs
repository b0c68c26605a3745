using System.Text.RegularExpressions;

namespace Tern.Core.Functions;

public static partial class FunctionNames
{
    // \z, not $: in .NET $ also matches before a final newline.
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}\\z")]
    private static partial Regex Pattern();

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);
}
