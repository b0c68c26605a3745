using System.Buffers;
using System.Security.Cryptography;
using Tern.Core.Functions;
using Tern.Core.Code;

namespace Tern.Storage.Code;

/// <summary>Code on disk by sha256: {root}/{hash}.blob holds the upload; a zip is also unpacked to {root}/{hash}/; what
/// the daemon compiles from a package (precompiled wasm modules) goes in {root}/{hash}.compiled/.
/// An upload streams to a temporary file (hashed on the way, never held in memory) and is renamed into place, so a
/// crash never leaves half a package.</summary>
internal sealed class FileCodeStore : ICodeStore
{
    private readonly string _root;

    public FileCodeStore(string root)
    {
        _root = root;
        Directory.CreateDirectory(root);
    }

    public async Task<StoredCode> SaveAsync(Stream content, bool unpackZip = true, CancellationToken ct = default)
    {
        var upload = Path.Combine(_root, $".upload-{Guid.NewGuid():N}.tmp");
        try
        {
            var (hash, length, head) = await ReceiveAsync(content, upload, ct).ConfigureAwait(false);
            if (length == 0) throw new InvalidCodePackageException("code is empty");
            var isZip = unpackZip && ZipPackage.IsZip(head);

            // Unpack first: a rejected zip must leave nothing behind.
            if (isZip && !Directory.Exists(PackageDir(hash)))
            {
                var tmpDir = Path.Combine(_root, $".{hash}.{Guid.NewGuid():N}.tmp");
                try
                {
                    ZipPackage.ExtractTo(upload, tmpDir);
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
                // A single file may be the executable itself (go, rust, binary); the sandbox mounts it read-only.
                File.SetUnixFileMode(upload, PackageModes.Executable);
                File.Move(upload, blob, overwrite: true);
            }
            return new StoredCode(hash, isZip);
        }
        finally
        {
            File.Delete(upload);
        }
    }

    /// <summary>Copies the upload to <paramref name="path"/>, hashing it; refuses more than MaxCodeBytes.</summary>
    private static async Task<(string Hash, long Length, byte[] Head)> ReceiveAsync(Stream content, string path, CancellationToken ct)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var head = new byte[4];
        var length = 0L;
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            await using var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            int n;
            while ((n = await content.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                if (length < head.Length) buffer.AsSpan(0, (int)Math.Min(n, head.Length - length)).CopyTo(head.AsSpan((int)length));
                length += n;
                if (length > FunctionLimits.MaxCodeBytes)
                    throw new InvalidCodePackageException($"code is larger than {FunctionLimits.MaxCodeBytes / (1024 * 1024)} MB");
                sha.AppendData(buffer, 0, n);
                await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return (Convert.ToHexStringLower(sha.GetHashAndReset()), length, head);
    }

    public string? LocalPath(CodeRef code)
    {
        if (!IsHash(code.Hash)) return null;
        var path = code.IsSingleFile ? BlobPath(code.Hash) : PackageDir(code.Hash);
        return code.IsSingleFile ? (File.Exists(path) ? path : null) : (Directory.Exists(path) ? path : null);
    }

    /// <summary>The blob holds the upload as received, a zip or a single file alike.</summary>
    public Task<Stream> OpenPackageAsync(CodeRef code, CancellationToken ct = default)
    {
        if (!IsHash(code.Hash)) throw new FileNotFoundException($"code package '{code.Hash}' is not a sha256");
        return Task.FromResult<Stream>(new FileStream(BlobPath(code.Hash), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true));
    }

    public string? CompiledPath(CodeRef code) => IsHash(code.Hash) ? Path.Combine(_root, code.Hash + ".compiled") : null;

    /// <summary>A reference is a lowercase hex sha256; anything else never names a file (no path can be smuggled in).</summary>
    private static bool IsHash(string hash) => hash.Length == 64 && hash.All(char.IsAsciiHexDigitLower);

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
