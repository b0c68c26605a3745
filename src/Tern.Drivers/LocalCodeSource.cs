using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Tern.Core.Code;

namespace Tern.Drivers;

/// <summary>Code already on this host, named by path: for tools that run a driver without a code store (bench/, driver
/// tests). The daemon uses its code store instead. A reference's hash here is the SHA-256 of the path, not of the
/// content.</summary>
public sealed class LocalCodeSource : ICodeSource
{
    private readonly ConcurrentDictionary<string, string> _paths = new();
    private readonly ConcurrentDictionary<string, string> _compiled = new();

    /// <param name="hostPath">A directory (mounted as /code) or, with <paramref name="fileName"/>, one file (/code/fileName).</param>
    /// <param name="compiledPath">Where precompiled modules for this code are kept (see <see cref="ICodeSource.CompiledPath"/>); null: none.</param>
    public CodeRef Add(string hostPath, string? fileName = null, string? compiledPath = null)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(hostPath)));
        _paths[key] = hostPath;
        if (compiledPath is not null) _compiled[key] = compiledPath;
        else _compiled.TryRemove(key, out _);
        return new CodeRef(key, fileName);
    }

    public string? LocalPath(CodeRef code) => _paths.GetValueOrDefault(code.Hash);

    public string? CompiledPath(CodeRef code) => _compiled.GetValueOrDefault(code.Hash);

    public Task<Stream> OpenPackageAsync(CodeRef code, CancellationToken ct = default) =>
        LocalPath(code) is { } path && code.IsSingleFile
            ? Task.FromResult<Stream>(File.OpenRead(path))
            : throw new FileNotFoundException($"no package for '{code.Hash}' (a local directory has no package form)");
}
