using Tern.Core.Code;

namespace Tern.Storage;

/// <summary>Code packages by content hash. Saving the same bytes twice stores them once. Drivers read packages through
/// <see cref="ICodeSource"/> (by reference), never through this.</summary>
public interface ICodeStore : ICodeSource
{
    /// <summary>Stores a zip (recognised by its magic bytes; unpacked when <paramref name="unpackZip"/>) or a single file,
    /// read from <paramref name="content"/> as it streams (never held whole in memory). Throws
    /// InvalidCodePackageException (empty, too large, a zip that is corrupt or unsafe).</summary>
    Task<StoredCode> SaveAsync(Stream content, bool unpackZip = true, CancellationToken ct = default);

    /// <summary>True if the package contains the entry file (for a single file: its name is the handler).</summary>
    bool ContainsHandler(string codeHash, string? codeFileName, string handler);

    /// <summary>Sets the executable bit on a package's entry file (zips made on other systems often lose it).</summary>
    void MarkExecutable(string codeHash, string? codeFileName, string handler);
}

/// <param name="Hash">Lowercase hex sha256 of the uploaded bytes.</param>
/// <param name="IsZip">True when the package was unpacked and is mounted as a directory.</param>
public sealed record StoredCode(string Hash, bool IsZip);
