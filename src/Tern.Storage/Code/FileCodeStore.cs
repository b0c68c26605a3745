using System.Security.Cryptography;
using Tern.Drivers;

namespace Tern.Storage.Code;

/// <summary>Code on disk by sha256: {root}/{hash}.blob holds the upload; a zip is also unpacked to {root}/{hash}/.
/// Writes go to a temporary name first and are renamed into place, so a crash never leaves half a package.</summary>
public sealed class FileCodeStore : ICodeStore
{
    private readonly string _root;

    public FileCodeStore(string root)
    {
        _root = root;
        Directory.CreateDirectory(root);
    }

    public async Task<StoredCode> SaveAsync(byte[] content, bool unpackZip = true, CancellationToken ct = default)
    {
        if (content.Length == 0) throw new InvalidCodePackageException("code is empty");
        var hash = Convert.ToHexStringLower(SHA256.HashData(content));
        var isZip = unpackZip && ZipPackage.IsZip(content);

        // Unpack first: a rejected zip must leave nothing behind.
        if (isZip && !Directory.Exists(PackageDir(hash)))
        {
            var tmpDir = Path.Combine(_root, $".{hash}.{Guid.NewGuid():N}.tmp");
            try
            {
                ZipPackage.ExtractTo(content, tmpDir);
                try { Directory.Move(tmpDir, PackageDir(hash)); }
                catch (IOException) when (Directory.Exists(PackageDir(hash))) { } // another upload of the same bytes won
            }
            finally
            {
                if (Directory.Exists(tmpDir)) Directory.Delete(tmpDir, recursive: true);
            }
        }
        var blob = BlobPath(hash);
        if (!File.Exists(blob))
        {
            var tmp = $"{blob}.{Guid.NewGuid():N}.tmp";
            await File.WriteAllBytesAsync(tmp, content, ct).ConfigureAwait(false);
            // A single file may be the executable itself (go, rust, binary); the sandbox mounts it read-only.
            File.SetUnixFileMode(tmp, PackageModes.Executable);
            File.Move(tmp, blob, overwrite: true);
        }
        return new StoredCode(hash, isZip);
    }

    public CodeMount GetMount(string codeHash, string? codeFileName) =>
        codeFileName is null ? new CodeMount(PackageDir(codeHash), null) : new CodeMount(BlobPath(codeHash), codeFileName);

    public bool ContainsHandler(string codeHash, string? codeFileName, string handler) =>
        codeFileName is not null ? handler == codeFileName : File.Exists(Path.Combine(PackageDir(codeHash), handler));

    public void MarkExecutable(string codeHash, string? codeFileName, string handler)
    {
        var path = codeFileName is null ? Path.Combine(PackageDir(codeHash), handler) : BlobPath(codeHash);
        if (File.Exists(path)) File.SetUnixFileMode(path, PackageModes.Executable);
    }

    private string BlobPath(string hash) => Path.Combine(_root, hash + ".blob");
    private string PackageDir(string hash) => Path.Combine(_root, hash);
}
