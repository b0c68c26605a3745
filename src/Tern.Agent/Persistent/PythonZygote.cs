using System.Buffers;
using System.Text.Json;
using Tern.Agent.Protocol;
using Tern.Runtimes;

namespace Tern.Agent.Persistent;

/// <summary>In a spare (template) worker, a Python bootstrap started before any function is known (a zygote, after
/// the SOCK paper): interpreter up, bootstrap imported, waiting on stdin. A persistent Python function's Init adopts
/// it, sending the handler name and environment, and so pays only for importing the user's module. Any other Init
/// discards it.</summary>
internal static class PythonZygote
{
    private static HandlerProcess? _spare;

    /// <summary>Starts the zygote when the host said this worker is a template (TERN_AGENT_TEMPLATE=1).</summary>
    public static void StartIfTemplate()
    {
        if (Environment.GetEnvironmentVariable("TERN_AGENT_TEMPLATE") != "1" || !RuntimeCatalog.TryGet("python", out var python)) return;
        var placeholder = new InitMessage { Runtime = "python", Mode = "persistent", MemoryMb = 128 };
        try
        {
            _spare = HandlerProcess.Start(python.PersistentCommand!("--zygote", 128),
                env => HandlerEnvironment.FillPersistent(env, placeholder, python), AgentChannel.DefaultMaxFrameBytes, listener: null);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"tern-agent: no Python zygote: {e.Message}");
        }
    }

    /// <summary>Hands the zygote over to <paramref name="listener"/>, told to load <paramref name="init"/>'s handler;
    /// null if there is none (or it died).</summary>
    public static HandlerProcess? Take(InitMessage init, RuntimeDefinition python, int maxLineBytes, IHandlerListener listener, bool handOff)
    {
        if (Interlocked.Exchange(ref _spare, null) is not { } zygote) return null;
        if (!zygote.IsAlive)
        {
            zygote.Dispose();
            return null;
        }
        var env = new Dictionary<string, string?>();
        HandlerEnvironment.FillPersistent(env, init, python);
        var line = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(line))
        {
            json.WriteStartObject();
            json.WriteString("handler", init.Handler);
            json.WriteStartObject("env");
            foreach (var (key, value) in env) json.WriteString(key, value);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        line.Write("\n"u8);
        zygote.MaxLineBytes = maxLineBytes;
        zygote.HandOffAfterReady = handOff; // before the handler line: the ready line answers it
        zygote.Attach(listener);
        zygote.Send(line.WrittenSpan);
        return zygote;
    }

    /// <summary>Stops an unused zygote (this worker took on something other than persistent Python): a kill, no wait.</summary>
    public static void Discard()
    {
        if (Interlocked.Exchange(ref _spare, null) is { } zygote) zygote.Abandon();
    }
}
