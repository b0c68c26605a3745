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
internal sealed class CompiledModuleCache(string? directory, Action<string>? trace)
{
    private static ReadOnlySpan<byte> Magic => "TWCM0001"u8;
    private const int HashBytes = 16;
    private const int HeaderBytes = 8 + HashBytes;

    /// <summary>Changes whenever compiled code could differ: the Wasmtime package and <see cref="WasmEngine"/>'s settings.</summary>
    public static string EngineKey => $"wasmtime-{typeof(Engine).Assembly.GetName().Version}-{WasmEngine.SettingsKey}";

    public Module Load(Engine engine, string modulePath)
    {
        var wasm = File.ReadAllBytes(modulePath);
        var name = Path.GetFileName(modulePath);
        var cachePath = directory is null ? null
            : Path.Combine(directory, $"{Convert.ToHexStringLower(XxHash128.Hash(wasm))}-{EngineKey}.cwasm");
        if (cachePath is not null && TryDeserialize(engine, name, cachePath) is { } cached)
        {
            trace?.Invoke($"module from cache {cachePath}");
            return cached;
        }
        if (Module.Validate(engine, wasm) is { } invalid)
            throw new ModuleLoadException($"{modulePath} is not a valid WebAssembly module: {WasiCommand.OneLine(invalid)}");
        var module = Module.FromBytes(engine, name, wasm);
        trace?.Invoke("module compiled");
        if (cachePath is not null) TryStore(module, cachePath);
        return module;
    }

    private Module? TryDeserialize(Engine engine, string name, string cachePath)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(cachePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // missing (the usual first start) or unreadable: compile
        }
        var payload = file.AsSpan(Math.Min(file.Length, HeaderBytes));
        if (file.Length < HeaderBytes || !file.AsSpan(0, 8).SequenceEqual(Magic) || !XxHash128.Hash(payload).AsSpan().SequenceEqual(file.AsSpan(8, HashBytes)))
        {
            trace?.Invoke($"cache file {cachePath} is corrupt: compiling");
            return null;
        }
        try
        {
            return Module.Deserialize(engine, name, payload);
        }
        catch (WasmtimeException e)
        {
            trace?.Invoke($"cache file {cachePath} is stale ({e.Message.Split('\n')[0]}): compiling");
            return null;
        }
    }

    /// <summary>Written to a temporary name and renamed, so a reader sees a whole file or none. A cache that cannot be
    /// written (full, read-only) only costs the next start a compile.</summary>
    private void TryStore(Module module, string cachePath)
    {
        var temp = $"{cachePath}.{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(directory!);
            var payload = module.Serialize();
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                file.Write(Magic);
                file.Write(XxHash128.Hash(payload));
                file.Write(payload);
            }
            File.Move(temp, cachePath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or WasmtimeException)
        {
            trace?.Invoke($"cannot write the cache file {cachePath}: {e.Message}");
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
