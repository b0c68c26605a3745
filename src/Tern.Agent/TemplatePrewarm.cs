using System.IO.Pipes;
using Tern.Agent.Protocol;
using Tern.Agent.Protocol.LineProtocol;
using Tern.Json;

namespace Tern.Agent;

/// <summary>In a spare (template) worker, runs the frames a cold start will bring (Init, Exec, the answer) through the
/// agent's codec once, into memory, while the spare waits. Code is paged in at first use, and on this kind of machine
/// (a paravirtualised guest, where page faults are dear) that first use cost a cold start's Init ~3 ms; the spare's
/// idle time is the place to pay it.</summary>
internal static class TemplatePrewarm
{
    public static void RunIfTemplate()
    {
        if (Environment.GetEnvironmentVariable("TERN_AGENT_TEMPLATE") != "1") return;
        using var buffer = new MemoryStream();
        using (var writer = new AgentChannel(buffer))
        {
            writer.Write(new InitMessage { Runtime = "prewarm", Handler = "prewarm", Mode = "process", FunctionName = "prewarm", Env = { ["K"] = "V" } });
            writer.Write(new ExecMessage { RequestId = "prewarm", Input = RawJson.Parse("""{"prewarm":true}"""), TimeoutMs = 1000, TraceId = "t" });
            writer.Write(new RespMessage { RequestId = "prewarm", Status = "success", Output = RawJson.Parse("{}"), StderrTail = "", DurationMs = 1 });
        }
        using var frames = new MemoryStream(buffer.ToArray());
        using var reader = new AgentChannel(frames);
        while (reader.Read() is not null) { }
        // A persistent call's answer catches up on the handler's stderr with an ioctl: its first use looks libc up for
        // Tern.Agent.Protocol (~1 ms of failed opens and a linker script here), which belongs in this idle time too.
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        var tail = new RollingTail(16);
        tail.TrackPipe((int)pipe.SafePipeHandle.DangerousGetHandle());
        tail.CatchUp(TimeSpan.Zero);
    }
}
