namespace Tern.Cli.Packaging;

/// <summary>What is uploaded as a function's code: zip bytes, or one file's bytes with its name.</summary>
/// <param name="FileName">Set only for a single non-zip file: the server mounts the code under this name.</param>
internal sealed record CodePackage(byte[] Bytes, string? FileName);
