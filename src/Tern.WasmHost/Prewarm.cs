using Wasmtime;

namespace Tern.WasmHost;

/// <summary>What a zygote runs before it waits, so that a function's first call does not pay for first use: a tiny
/// module, deserialized, instantiated with WASI and run. That pages in the code of the deserialize, instantiate and call
/// paths (of libwasmtime and of this host) and starts the WASI implementation's I/O runtime (its threads), which each
/// cost milliseconds at first touch on this kind of machine. Its compiled form is made at build time (<c>--write-prewarm
/// DIR</c>, into prewarm/ beside the host) so the zygote never runs the compiler, whose code would then stay in every
/// wasm worker's memory; when that file is missing or refused (another machine), the zygote simply skips this.</summary>
internal static class Prewarm
{
    /// <summary>(module (import "wasi_snapshot_preview1" "fd_fdstat_get" (func (param i32 i32) (result i32)))
    /// (memory (export "memory") 1) (func (export "_start") (drop (call 0 (i32.const 1) (i32.const 0))))), by wat2wasm:
    /// fd_fdstat_get is one of the WASI calls run on the I/O runtime (environ_sizes_get, say, is not), and it only
    /// looks at stdout.</summary>
    private static readonly byte[] Module =
    [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00,
        0x02, 0x28, 0x01, 0x16, 0x77, 0x61, 0x73, 0x69, 0x5f, 0x73, 0x6e, 0x61, 0x70, 0x73, 0x68, 0x6f, 0x74, 0x5f, 0x70, 0x72,
        0x65, 0x76, 0x69, 0x65, 0x77, 0x31, 0x0d, 0x66, 0x64, 0x5f, 0x66, 0x64, 0x73, 0x74, 0x61, 0x74, 0x5f, 0x67, 0x65, 0x74,
        0x00, 0x00, 0x03, 0x02, 0x01, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x13, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72,
        0x79, 0x02, 0x00, 0x06, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x01, 0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0x01, 0x41,
        0x00, 0x10, 0x00, 0x1a, 0x0b,
    ];

    private static string Directory => Path.Combine(AppContext.BaseDirectory, "prewarm");

    /// <summary>Build time: compiles the prewarm module into <paramref name="directory"/>.</summary>
    public static string Write(Engine engine, string directory) =>
        new CompiledModuleCache(directory, null, null).Compile(engine, "the prewarm module", "prewarm", Module);

    /// <summary>Runs the prewarm module if its compiled form is there; says on <paramref name="trace"/> what it did.</summary>
    public static void Run(Engine engine, Action<string>? trace)
    {
        using var module = new CompiledModuleCache(null, Directory, trace).TryLoadPrecompiled(engine, "prewarm", Module);
        if (module is null) return;
        using var linker = new Linker(engine);
        linker.DefineWasi();
        using var store = new Store(engine);
        store.SetWasiConfiguration(new WasiConfiguration().WithArgs("prewarm"));
        store.SetEpochDeadline(ulong.MaxValue);
        try
        {
            linker.Instantiate(store, module).GetAction("_start")?.Invoke();
            trace?.Invoke("prewarmed");
        }
        catch (WasmtimeException e)
        {
            trace?.Invoke($"prewarm failed: {WasiCommand.OneLine(e.Message)}");
        }
    }
}
