namespace Tern.Core.Code;

/// <summary>Where drivers get code by reference. Each driver delivers it its own way: the sandbox bind-mounts the local
/// path; a VM driver would put the package on a disk or share; a pod would fetch the stream.</summary>
public interface ICodeSource
{
    /// <summary>The package as a path on this host, ready to mount at /code (the directory of an unpacked zip, or the
    /// single file); null when this host does not hold it.</summary>
    string? LocalPath(CodeRef code);

    /// <summary>Brings the package onto this host when it is kept elsewhere (a store shared by several daemons), so that
    /// <see cref="LocalPath"/> finds it. Called before a worker starts and before the registry reads a package;
    /// asynchronous because it may read a database, which LocalPath (asked by drivers synchronously) must never do.</summary>
    ValueTask EnsureLocalAsync(CodeRef code, CancellationToken ct = default) => ValueTask.CompletedTask;

    /// <summary>The package as uploaded (the zip, or the single file), for a driver that ships it elsewhere. Throws
    /// FileNotFoundException when it is not stored.</summary>
    Task<Stream> OpenPackageAsync(CodeRef code, CancellationToken ct = default);

    /// <summary>Where this host keeps what the daemon derived from the package (Wasmtime's precompiled modules): a
    /// directory beside the code, which a driver mounts read-only at /opt/tern/compiled when it exists. Null when this
    /// source keeps none (the worker then compiles for itself).</summary>
    string? CompiledPath(CodeRef code) => null;
}
