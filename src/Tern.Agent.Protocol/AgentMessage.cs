using System.Text.Json.Serialization;
using Tern.Json;

namespace Tern.Agent.Protocol;

/// <summary>One frame's payload. The "type" property tells which message it is.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(InitMessage), "init")]
[JsonDerivedType(typeof(ExecMessage), "exec")]
[JsonDerivedType(typeof(RespMessage), "resp")]
[JsonDerivedType(typeof(PingMessage), "ping")]
[JsonDerivedType(typeof(StopMessage), "stop")]
[JsonDerivedType(typeof(WatchMessage), "watch")]
[JsonDerivedType(typeof(ClockMessage), "clock")]
public abstract class AgentMessage;

/// <summary>Host to agent, once, first: what this worker runs.</summary>
public sealed class InitMessage : AgentMessage
{
    public string Runtime { get; set; } = "";
    public string Handler { get; set; } = "";
    public Dictionary<string, string> Env { get; set; } = [];
    public string Mode { get; set; } = "process";
    public string FunctionName { get; set; } = "";
    /// <summary>The published version this worker runs ("3"), or "$LATEST": the handler's TERN_FUNCTION_VERSION,
    /// AWS_LAMBDA_FUNCTION_VERSION and context.function_version. Workers are pooled per version, so it is fixed per worker.</summary>
    public string Version { get; set; } = "$LATEST";
    /// <summary>The function's configuration revision (TERN_FUNCTION_REVISION).</summary>
    public int Revision { get; set; }
    /// <summary>The region handlers see as AWS_REGION and AWS_DEFAULT_REGION (a daemon setting).</summary>
    public string? Region { get; set; }
    public int MemoryMb { get; set; }
    public int TimeoutMs { get; set; }
    /// <summary>Calls the host may send before the first is answered.</summary>
    public int InstanceConcurrency { get; set; } = 1;
    /// <summary>Largest frame either side may send; a larger answer becomes an error answer.</summary>
    public int MaxMessageBytes { get; set; } = AgentChannel.DefaultMaxFrameBytes;
    /// <summary>The host can take over a persistent handler's stdin, stdout and stderr (docs/hot-path.md, "handoff"):
    /// once it is ready, the agent may pass them over the descriptor channel and leave the calls' data path.</summary>
    public bool Handoff { get; set; }
}

/// <summary>Host to agent: run one call.</summary>
public sealed class ExecMessage : AgentMessage
{
    public string RequestId { get; set; } = "";
    /// <summary>The event, as the caller sent it.</summary>
    public RawJson Input { get; set; }
    public int TimeoutMs { get; set; }
    public string? TraceId { get; set; }
    /// <summary>W3C traceparent of the call, when the caller sent one.</summary>
    public string? TraceParent { get; set; }
}

/// <summary>Agent to host: the answer to Init, Exec or Ping, matched by RequestId.</summary>
public sealed class RespMessage : AgentMessage
{
    public string RequestId { get; set; } = "";
    /// <summary>success, error or timeout.</summary>
    public string Status { get; set; } = "success";
    public RawJson? Output { get; set; }
    public AgentError? Error { get; set; }
    public double DurationMs { get; set; }
    public string? StdoutTail { get; set; }
    public string? StderrTail { get; set; }
    /// <summary>In the answer to Init: true when the agent handed the handler's pipes to the host (which then speaks the
    /// line protocol itself); absent otherwise.</summary>
    public bool? Handoff { get; set; }
}

public sealed class AgentError
{
    public string Code { get; set; } = "";
    public string Message { get; set; } = "";
    /// <summary>The handler exception in Lambda's shape, when the handler process reported one (type, its own message,
    /// the user's frames); absent for every other failure.</summary>
    public string? ErrorType { get; set; }
    public string? ErrorMessage { get; set; }
    public string[]? StackTrace { get; set; }
}

/// <summary>Host to agent: are you alive? Answered with a Resp carrying the same RequestId.</summary>
public sealed class PingMessage : AgentMessage
{
    public string RequestId { get; set; } = "";
}

/// <summary>Host to agent: finish and exit.</summary>
public sealed class StopMessage : AgentMessage;

/// <summary>Host to agent, after a handoff: answer (with the same RequestId, status "error") when the handed-off handler
/// process has ended, saying how (exit code or signal, and the end of its stderr as the agent last saw it).</summary>
public sealed class WatchMessage : AgentMessage
{
    public string RequestId { get; set; } = "";
}

/// <summary>Host to agent, microVM driver only: set the guest's wall clock (CLOCK_REALTIME) to the host's, sent as soon as
/// the agent answers after a boot or a snapshot restore. Answered with a Resp carrying the same RequestId; status "error"
/// when this agent may not set the clock (every driver but the microVM one) or the kernel refused.</summary>
public sealed class ClockMessage : AgentMessage
{
    public string RequestId { get; set; } = "";
    /// <summary>The host's CLOCK_REALTIME when it sent the message, in nanoseconds since the Unix epoch.</summary>
    public long UnixTimeNs { get; set; }
}
