namespace Tern.Storage.Secrets;

/// <summary>A secret's public face: everything but its value, which no API ever returns.</summary>
public sealed record SecretInfo(string Name, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Named secrets, encrypted at rest. Values go in and only come out through <see cref="ISecretResolver"/>,
/// when a worker starts.</summary>
public interface ISecretStore
{
    /// <summary>Creates or replaces a secret; <c>Created</c> is true when the name was new.
    /// Throws <see cref="SecretValidationException"/> for a bad name or value.</summary>
    Task<(SecretInfo Info, bool Created)> SetAsync(string name, string value, CancellationToken ct = default);
    Task<IReadOnlyList<SecretInfo>> ListAsync(CancellationToken ct = default);
    Task<bool> DeleteAsync(string name, CancellationToken ct = default);
}

/// <summary>Turns a secret's name into its plain value, for the environment of a starting worker.</summary>
public interface ISecretResolver
{
    /// <summary>The decrypted value, or null when there is no secret of that name.</summary>
    Task<string?> ResolveAsync(string name, CancellationToken ct = default);
}

/// <summary>A bad secret name or value. The message never contains the value.</summary>
public sealed class SecretValidationException(string message) : Exception(message);
