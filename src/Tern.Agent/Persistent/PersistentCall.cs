using System.Diagnostics;
using Tern.Agent.Protocol;

namespace Tern.Agent.Persistent;

/// <summary>One call in a persistent worker, from its Exec to its answer. Its state changes under the runner's lock.</summary>
internal sealed class PersistentCall(ExecMessage exec, int timeoutMs, ReadOnlyMemory<byte> line)
{
    public ExecMessage Exec { get; } = exec;
    public string RequestId => Exec.RequestId;
    public int TimeoutMs { get; } = timeoutMs;
    /// <summary>The request line, built when the call arrived (its deadline is fixed then).</summary>
    public ReadOnlyMemory<byte> Line { get; } = line;
    public long Started { get; } = Stopwatch.GetTimestamp();
    public long DeadlineTicks { get; } = Environment.TickCount64 + timeoutMs;

    /// <summary>The process the line went to; null while the call waits for a slot or a process.</summary>
    public HandlerProcess? SentTo { get; set; }
    /// <summary>Where the process's stderr stood when the line went out: the call's logs start there.</summary>
    public long StderrMark { get; set; }
    /// <summary>Answered (by the handler, a timeout or a crash): nothing else may answer it.</summary>
    public bool Done { get; set; }
    /// <summary>Its place in the watchdog's deadline list.</summary>
    public LinkedListNode<PersistentCall>? Deadline { get; set; }

    public double ElapsedMs => Stopwatch.GetElapsedTime(Started).TotalMilliseconds;
}
