using System.Text;
using System.Text.RegularExpressions;

namespace Tern.Storage.Secrets;

/// <summary>What a secret's name and value may be, and how a function's env refers to one (<c>$SECRET:name</c>).</summary>
public static partial class SecretRules
{
    public const int MaxValueBytes = 64 * 1024;
    public const string ReferencePrefix = "$SECRET:";
    public const string NamePattern = "^[A-Za-z_][A-Za-z0-9_.-]{0,127}$";

    [GeneratedRegex(NamePattern)]
    private static partial Regex NameRegex();

    public static bool IsValidName(string? name) => name is not null && NameRegex().IsMatch(name);

    /// <summary>Throws <see cref="SecretValidationException"/> (never quoting the value).</summary>
    public static void Validate(string name, string? value)
    {
        if (!IsValidName(name))
            throw new SecretValidationException($"a secret name must match {NamePattern}");
        if (value is null) throw new SecretValidationException("a secret value is required");
        if (Encoding.UTF8.GetByteCount(value) > MaxValueBytes)
            throw new SecretValidationException($"a secret value may be at most {MaxValueBytes} bytes (UTF-8)");
    }

    /// <summary>The secret name when <paramref name="envValue"/> is exactly <c>$SECRET:name</c>; otherwise null.</summary>
    public static string? ReferencedName(string? envValue) =>
        envValue is not null && envValue.StartsWith(ReferencePrefix, StringComparison.Ordinal) ? envValue[ReferencePrefix.Length..] : null;
}
