namespace Tern.Core.Code;

/// <summary>A function's code package by content: the SHA-256 (lowercase hex) of the bytes uploaded, and, for a
/// single-file package, the name the worker sees it under (/code/FileName; null: an unpacked zip, a directory).
/// Workers get this, never a host path, so a driver whose workers cannot see the host's files (a microVM, a pod) fetches
/// the package by its hash.</summary>
public sealed record CodeRef(string Hash, string? FileName)
{
    public bool IsSingleFile => FileName is not null;
}
