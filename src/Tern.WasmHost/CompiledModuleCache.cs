using System.IO.Hashing;
using Wasmtime;

namespace Tern.WasmHost;

/// <summary>Compiled modules (Wasmtime's serialized form) kept in a directory, so a module is compiled once per code and
/// engine, not at every start. The file name is a 128-bit hash of the module bytes plus <see cref="EngineKey"/>
/// (Wasmtime's version and every engine setting that changes the compiled code). Each file starts with a magic and the
/// hash of what follows: Wasmtime trusts serialized bytes (it maps them as native code), so a truncated or corrupt file
/// is recognised here and replaced, never handed to it. A file Wasmtime refuses anyway (another build, another CPU) is
/// recompiled and replaced too.
/// <para>XxHash128 rather than SHA-256: the BCL's SHA-256 loads OpenSSL, which cost a cold start ~10 ms and the idle
/// worker 3-4 MB of RSS. The directory is the worker's own (its private /tmp), written only by this host, so the hashes
/// guard against accidents (a full disk, a killed writer), not against an adversary.</para></summary>
/// <para>A second, read-only directory (<c>compiledDir</c>) holds what the daemon compiled when the code was stored
/// (same file names and framing, written by this same binary with <c>--compile</c>): it is looked up first, and a file
/// there that is missing, corrupt or refused falls back to the worker's own cache and then to compiling.</para></summary>
internal sealed class CompiledModuleCache(string? directory, string? compiledDir, Action<string>? trace)
{
    private static ReadOnlySpan<byte> Magic => "TWCM0001"u8;
    private const int HashBytes = 16;
    private const int HeaderBytes = 8 + HashBytes;

    /// <summary>Changes whenever compiled code could differ: the Wasmtime package and <see cref="WasmEngine"/>'s settings.</summary>
    public static string EngineKey => $"wasmtime-{typeof(Engine).Assembly.GetName().Version}-{WasmEngine.SettingsKey}";

    /// <summary>The file a module's compiled form is kept in, in either directory.</summary>
    public static string FileName(ReadOnlySpan<byte> wasm) => $"{Convert.ToHexStringLower(XxHash128.Hash(wasm))}-{EngineKey}.cwasm";

    public Module Load(Engine engine, string modulePath)
    {
        var wasm = File.ReadAllBytes(modulePath);
        var name = Path.GetFileName(modulePath);
        var fileName = FileName(wasm);
        if (TryLoadPrecompiled(engine, name, wasm) is { } ready)
        {
            trace?.Invoke($"module precompiled by the daemon: {Path.Combine(compiledDir!, fileName)}");
            return ready;
        }
        var cachePath = directory is null ? null : Path.Combine(directory, fileName);
        if (cachePath is not null && TryDeserialize(engine, name, cachePath, "cache file") is { } cached)
        {
            trace?.Invoke($"module from cache {cachePath}");
            return cached;
        }
        var module = CompileValid(engine, modulePath, name, wasm);
        trace?.Invoke("module compiled");
        if (cachePath is not null) TryStore(module, cachePath);
        return module;
    }

    /// <summary>The module from the read-only directory of precompiled ones only (never compiled here); null when it is
    /// not there or not usable.</summary>
    public Module? TryLoadPrecompiled(Engine engine, string name, ReadOnlySpan<byte> wasm) =>
        compiledDir is null ? null : TryDeserialize(engine, name, Path.Combine(compiledDir, FileName(wasm)), "precompiled file");

    /// <summary><c>--compile</c>: compiles the module into the cache directory and returns the file written. Throws
    /// <see cref="ModuleLoadException"/> for a module that is not valid, IOException when the file cannot be written.</summary>
    public string Compile(Engine engine, string modulePath) =>
        Compile(engine, modulePath, Path.GetFileName(modulePath), File.ReadAllBytes(modulePath));

    /// <summary>A file already there that this engine accepts is kept (the daemon asks again at every start).</summary>
    public string Compile(Engine engine, string what, string name, byte[] wasm)
    {
        var path = Path.Combine(directory!, FileName(wasm));
        using (var existing = TryDeserialize(engine, name, path, "compiled file"))
        {
            if (existing is not null) return path;
        }
        using var module = CompileValid(engine, what, name, wasm);
        Store(module, path);
        return path;
    }

    private static Module CompileValid(Engine engine, string modulePath, string name, byte[] wasm)
    {
        if (Module.Validate(engine, wasm) is { } invalid)
            throw new ModuleLoadException($"{modulePath} is not a valid WebAssembly module: {WasiCommand.OneLine(invalid)}");
        return Module.FromBytes(engine, name, wasm);
    }

    private static string Fallback(string what) => what == "cache file" ? "compiling" : "not used";

    private Module? TryDeserialize(Engine engine, string name, string cachePath, string what)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(cachePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            trace?.Invoke($"no {what} {cachePath}");
            return null; // missing (the usual first start) or unreadable: compile
        }
        var payload = file.AsSpan(Math.Min(file.Length, HeaderBytes));
        if (file.Length < HeaderBytes || !file.AsSpan(0, 8).SequenceEqual(Magic) || !XxHash128.Hash(payload).AsSpan().SequenceEqual(file.AsSpan(8, HashBytes)))
        {
            trace?.Invoke($"{what} {cachePath} is corrupt: {Fallback(what)}");
            return null;
        }
        try
        {
            return Module.Deserialize(engine, name, payload);
        }
        catch (WasmtimeException e)
        {
            trace?.Invoke($"{what} {cachePath} is stale ({e.Message.Split('\n')[0]}): {Fallback(what)}");
            return null;
        }
    }

    /// <summary>Written to a temporary name and renamed, so a reader sees a whole file or none. A cache that cannot be
    /// written (full, read-only) only costs the next start a compile.</summary>
    private void TryStore(Module module, string cachePath)
    {
        try
        {
            Store(module, cachePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or WasmtimeException)
        {
            trace?.Invoke($"cannot write the cache file {cachePath}: {e.Message}");
        }
    }

    private void Store(Module module, string cachePath)
    {
        var temp = $"{cachePath}.{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(directory!);
            var payload = module.Serialize();
            // Readable by every worker's uid when the daemon wrote it into a shared, read-only mounted directory.
            using (var file = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            }))
            {
                file.Write(Magic);
                file.Write(XxHash128.Hash(payload));
                file.Write(payload);
            }
            File.Move(temp, cachePath, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
