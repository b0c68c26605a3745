using Wasmtime;

namespace Tern.WasmHost;

/// <summary>What a zygote does before and while it waits, so that a function's first call does not pay for first use.
/// <para>Before: a tiny module (prewarm.wat), deserialized, instantiated with WASI and run. That pages in the code of the
/// deserialize, instantiate and call paths (of libwasmtime and of this host), starts the WASI implementation's I/O
/// runtime (its threads) and, by opening and reading a file in a preopened directory as a process-mode handler reads
/// its event, a thread of that runtime's blocking pool; it also starts .NET's timer thread (a process-mode call arms a
/// timer at its deadline). Each of these cost a cold start a millisecond or more at first touch on this kind of
/// machine.</para>
/// <para>While waiting: the blocking pool lets an idle thread go after 10 s (tokio's default, not settable through
/// Wasmtime's C API), and a spare waits far longer, so the module's read is repeated every <see cref="KeepInterval"/>
/// until the command comes: one short wake-up, no new thread.</para>
/// <para>Its compiled form is made at build time (<c>--write-prewarm DIR</c>, into prewarm/ beside the host, with the
/// event.json it reads) so the zygote never runs the compiler, whose code would then stay in every wasm worker's
/// memory; when that file is missing or refused (another machine), the zygote simply skips this.</para></summary>
internal sealed class Prewarm : IDisposable
{
    /// <summary>Below the blocking pool's 10 s keep-alive, with room for a loaded machine.</summary>
    public static readonly TimeSpan KeepInterval = TimeSpan.FromSeconds(4);

    private const string EventFile = "event.json";

    /// <summary>prewarm.wat, by wat2wasm.</summary>
    private static readonly byte[] Module =
    [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x24, 0x05, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x09, 0x7f,
        0x7f, 0x7f, 0x7f, 0x7f, 0x7e, 0x7e, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01,
        0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x02, 0x8e, 0x01, 0x04, 0x16, 0x77, 0x61, 0x73, 0x69, 0x5f, 0x73, 0x6e, 0x61, 0x70,
        0x73, 0x68, 0x6f, 0x74, 0x5f, 0x70, 0x72, 0x65, 0x76, 0x69, 0x65, 0x77, 0x31, 0x0d, 0x66, 0x64, 0x5f, 0x66, 0x64, 0x73,
        0x74, 0x61, 0x74, 0x5f, 0x67, 0x65, 0x74, 0x00, 0x00, 0x16, 0x77, 0x61, 0x73, 0x69, 0x5f, 0x73, 0x6e, 0x61, 0x70, 0x73,
        0x68, 0x6f, 0x74, 0x5f, 0x70, 0x72, 0x65, 0x76, 0x69, 0x65, 0x77, 0x31, 0x09, 0x70, 0x61, 0x74, 0x68, 0x5f, 0x6f, 0x70,
        0x65, 0x6e, 0x00, 0x01, 0x16, 0x77, 0x61, 0x73, 0x69, 0x5f, 0x73, 0x6e, 0x61, 0x70, 0x73, 0x68, 0x6f, 0x74, 0x5f, 0x70,
        0x72, 0x65, 0x76, 0x69, 0x65, 0x77, 0x31, 0x07, 0x66, 0x64, 0x5f, 0x72, 0x65, 0x61, 0x64, 0x00, 0x02, 0x16, 0x77, 0x61,
        0x73, 0x69, 0x5f, 0x73, 0x6e, 0x61, 0x70, 0x73, 0x68, 0x6f, 0x74, 0x5f, 0x70, 0x72, 0x65, 0x76, 0x69, 0x65, 0x77, 0x31,
        0x08, 0x66, 0x64, 0x5f, 0x63, 0x6c, 0x6f, 0x73, 0x65, 0x00, 0x03, 0x03, 0x03, 0x02, 0x04, 0x04, 0x05, 0x03, 0x01, 0x00,
        0x01, 0x07, 0x20, 0x03, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x0a, 0x72, 0x65, 0x61, 0x64, 0x5f, 0x65,
        0x76, 0x65, 0x6e, 0x74, 0x00, 0x04, 0x06, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x05, 0x0a, 0x50, 0x02, 0x41, 0x00,
        0x41, 0x03, 0x41, 0x00, 0x41, 0xc0, 0x00, 0x41, 0x0a, 0x41, 0x00, 0x42, 0x02, 0x42, 0x00, 0x41, 0x00, 0x41, 0x08, 0x10,
        0x01, 0x45, 0x04, 0x40, 0x41, 0x10, 0x41, 0x80, 0x01, 0x36, 0x02, 0x00, 0x41, 0x14, 0x41, 0x80, 0x02, 0x36, 0x02, 0x00,
        0x41, 0x08, 0x28, 0x02, 0x00, 0x41, 0x10, 0x41, 0x01, 0x41, 0x0c, 0x10, 0x02, 0x1a, 0x41, 0x08, 0x28, 0x02, 0x00, 0x10,
        0x03, 0x1a, 0x0b, 0x0b, 0x0c, 0x00, 0x41, 0x01, 0x41, 0x80, 0x04, 0x10, 0x00, 0x1a, 0x10, 0x04, 0x0b, 0x0b, 0x11, 0x01,
        0x00, 0x41, 0xc0, 0x00, 0x0b, 0x0a, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x2e, 0x6a, 0x73, 0x6f, 0x6e,
    ];

    private static string Directory => Path.Combine(AppContext.BaseDirectory, "prewarm");

    private readonly Module _module;
    private readonly Store _store;
    private readonly Action _readEvent;
    private readonly Timer _keep;
    private readonly Lock _gate = new();
    private bool _stopped;

    private Prewarm(Module module, Store store, Action readEvent)
    {
        _module = module;
        _store = store;
        _readEvent = readEvent;
        _keep = new Timer(_ => Keep(), null, KeepInterval, KeepInterval);
    }

    /// <summary>Build time: compiles the prewarm module into <paramref name="directory"/>, beside the file it reads.</summary>
    public static string Write(Engine engine, string directory)
    {
        var written = new CompiledModuleCache(directory, null, null).Compile(engine, "the prewarm module", "prewarm", Module);
        File.WriteAllText(Path.Combine(directory, EventFile), "{}");
        return written;
    }

    /// <summary>Runs the prewarm module if its compiled form is there and keeps its blocking thread until disposed; null
    /// (having said why on <paramref name="trace"/>) when it cannot run. <paramref name="linker"/> (WASI defined) is the
    /// one the call will use.</summary>
    public static Prewarm? Start(Engine engine, Linker linker, Action<string>? trace)
    {
        var module = new CompiledModuleCache(null, Directory, trace).TryLoadPrecompiled(engine, "prewarm", Module);
        if (module is null) return null;
        var store = new Store(engine);
        try
        {
            store.SetWasiConfiguration(new WasiConfiguration().WithArgs("prewarm").WithPreopenedDirectory(Directory, "/prewarm", mutable: false));
            store.SetEpochDeadline(ulong.MaxValue);
            var instance = linker.Instantiate(store, module);
            instance.GetAction("_start")?.Invoke();
            var readEvent = instance.GetAction("read_event") ?? throw new WasmtimeException("the prewarm module exports no read_event");
            trace?.Invoke("prewarmed");
            return new Prewarm(module, store, readEvent);
        }
        catch (WasmtimeException e)
        {
            trace?.Invoke($"prewarm failed: {WasiCommand.OneLine(e.Message)}");
            store.Dispose();
            module.Dispose();
            return null;
        }
    }

    private void Keep()
    {
        lock (_gate)
        {
            if (_stopped) return;
            try
            {
                _readEvent();
            }
            catch (WasmtimeException)
            {
                _stopped = true; // nothing to keep warm with: the call pays for its thread, as without a prewarm
            }
        }
    }

    /// <summary>Stops the keeping (waiting for a tick under way), when the command has come; the threads stay for the
    /// call. The instance is let go only at <see cref="Dispose"/>, after the call: unmapping it costs time.</summary>
    public void Stop()
    {
        lock (_gate) _stopped = true;
        _keep.Dispose();
    }

    public void Dispose()
    {
        Stop();
        _store.Dispose();
        _module.Dispose();
    }
}
