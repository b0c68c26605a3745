using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using Tern.Runtimes;

namespace Tern.Agent.Persistent;

/// <summary>In a spare (template) worker, a <c>tern-wasm-host --zygote</c> started before any function is known: its
/// runtime is up, libwasmtime loaded and the engine made, and it waits on stdin. A wasm function's first start adopts it
/// (persistent mode at Init, process mode at the first call), sending the usual command line and the handler's
/// environment, and so pays only for loading the module (precompiled by the daemon), instantiating and running it. Any
/// other Init discards it. Process mode uses it once: each later call is a fresh host, as process mode promises.</summary>
internal static class WasmZygote
{
    private static Process? _spare;

    /// <summary>Starts the zygote when the host said this worker is a template (TERN_AGENT_TEMPLATE=1) and the wasm
    /// host is there (its absence is reported where a wasm function is registered, not here).</summary>
    public static void StartIfTemplate()
    {
        if (Environment.GetEnvironmentVariable("TERN_AGENT_TEMPLATE") != "1" || !File.Exists(RuntimeCatalog.WasmHost)) return;
        var psi = new ProcessStartInfo(RuntimeCatalog.WasmHost)
        {
            WorkingDirectory = RuntimeCatalog.CodeDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--zygote");
        // Nothing of the agent's environment: the module gets its own with the command.
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        psi.Environment["HOME"] = "/tmp";
        psi.Environment["TMPDIR"] = "/tmp";
        psi.Environment["LANG"] = "C.UTF-8";
        try
        {
            _spare = Process.Start(psi);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"tern-agent: no wasm zygote: {e.Message}");
        }
    }

    /// <summary>Process mode: the zygote told to run one call (its stdin then closed, as a fresh handler's is); null if
    /// there is none (or it died).</summary>
    public static Process? TakeForCall(string[] argv, IReadOnlyDictionary<string, string?> env)
    {
        if (Take(argv, env) is not { } process) return null;
        process.StandardInput.Close();
        return process;
    }

    /// <summary>Persistent mode: the zygote told to load the module, handed over to <paramref name="listener"/> as the
    /// handler process; null if there is none (or it died).</summary>
    public static HandlerProcess? TakeForPersistent(string[] argv, IReadOnlyDictionary<string, string?> env, int maxLineBytes, IHandlerListener listener,
        bool handOff) =>
        Take(argv, env) is { } process ? HandlerProcess.Adopt(process, maxLineBytes, listener, handOff) : null;

    /// <summary>Stops an unused zygote (this worker took on something other than wasm).</summary>
    public static void Discard()
    {
        if (Interlocked.Exchange(ref _spare, null) is not { } zygote) return;
        try
        {
            zygote.StandardInput.Close(); // it exits on its own at end of file
            if (!zygote.WaitForExit(TimeSpan.FromMilliseconds(200))) zygote.Kill();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
        zygote.Dispose();
    }

    /// <summary>Sends the command (argv without the host itself, and the environment) in the host's frame: a 4-byte
    /// little-endian length, then JSON (Tern.WasmHost/ZygoteCommand.cs).</summary>
    private static Process? Take(string[] argv, IReadOnlyDictionary<string, string?> env)
    {
        if (Interlocked.Exchange(ref _spare, null) is not { } zygote) return null;
        if (zygote.HasExited || argv.Length == 0 || argv[0] != RuntimeCatalog.WasmHost)
        {
            zygote.Dispose();
            return null;
        }
        var frame = new ArrayBufferWriter<byte>(1024);
        frame.Advance(4);
        using (var json = new Utf8JsonWriter(frame))
        {
            json.WriteStartObject();
            json.WriteStartArray("args");
            foreach (var arg in argv.AsSpan(1)) json.WriteStringValue(arg);
            json.WriteEndArray();
            json.WriteStartObject("env");
            foreach (var (key, value) in env)
                if (value is not null) json.WriteString(key, value);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        var bytes = frame.WrittenMemory.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(bytes, bytes.Length - 4);
        try
        {
            var stdin = zygote.StandardInput.BaseStream;
            stdin.Write(bytes);
            stdin.Flush();
            return zygote;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            try { zygote.Kill(); } catch (InvalidOperationException) { }
            zygote.Dispose();
            return null; // it died: the caller starts a host the usual way
        }
    }
}
