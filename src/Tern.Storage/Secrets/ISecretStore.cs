namespace Tern.Storage.Secrets;

/// <summary>A secret's public face: everything but its value, which no API ever returns.</summary>
/// <param name="Functions">Which functions may use it (see <see cref="SecretScope"/>).</param>
public sealed record SecretInfo(string Name, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<string> Functions);

/// <summary>Named secrets, encrypted at rest. Values go in and only come out through <see cref="ISecretResolver"/>,
/// when a worker starts.</summary>
public interface ISecretStore
{
    /// <summary>Creates or replaces a secret; <c>Created</c> is true when the name was new. A null
    /// <paramref name="functions"/> keeps the existing scope (none for a new secret).
    /// Throws <see cref="SecretValidationException"/> for a bad name, value or scope.</summary>
    Task<(SecretInfo Info, bool Created)> SetAsync(string name, string value, IReadOnlyList<string>? functions = null, CancellationToken ct = default);
    /// <summary>Replaces a secret's scope, keeping its value; null when there is no such secret.</summary>
    Task<SecretInfo?> SetScopeAsync(string name, IReadOnlyList<string> functions, CancellationToken ct = default);
    Task<SecretInfo?> GetAsync(string name, CancellationToken ct = default);
    Task<IReadOnlyList<SecretInfo>> ListAsync(CancellationToken ct = default);
    Task<bool> DeleteAsync(string name, CancellationToken ct = default);
}

/// <summary>Turns a secret's name into its plain value, for the environment of a starting worker.</summary>
public interface ISecretResolver
{
    /// <summary>The decrypted value, if there is a secret of that name and its scope grants it to
    /// <paramref name="function"/>.</summary>
    Task<SecretLookup> ResolveAsync(string name, string function, CancellationToken ct = default);
}

/// <summary>A secret's value for one function, or why there is none.</summary>
public readonly record struct SecretLookup(SecretLookupStatus Status, string? Value = null);

public enum SecretLookupStatus
{
    Found,
    NotFound,
    NotGranted,
}

/// <summary>A bad secret name or value. The message never contains the value.</summary>
public sealed class SecretValidationException(string message) : Exception(message);
