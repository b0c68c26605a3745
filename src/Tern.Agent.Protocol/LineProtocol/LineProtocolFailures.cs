namespace Tern.Agent.Protocol.LineProtocol;

/// <summary>How a persistent handler's failures are worded, and the limits of its stderr tails: one place for both
/// sides that speak the line protocol (the agent's relay and, after a handoff, the daemon's HandlerLane), so a call
/// fails with the same code and message whichever side served it.</summary>
public static class LineProtocolFailures
{
    public const string CrashedCode = "HandlerCrashed";
    public const string ProtocolErrorCode = "HandlerProtocolError";
    public const string OutputTooLargeCode = "OutputTooLarge";
    public const string TimeoutCode = "Timeout";

    /// <summary>The most of a handler's stderr kept, and given to one call as its tail.</summary>
    public const int StderrTailBytes = 64 * 1024;

    /// <summary>How long an answer may wait for the stderr lines written before it (<see cref="RollingTail.CatchUp"/>).
    /// It waits only while bytes sit unread in the pipe (normally microseconds); the bound is for a loaded machine, where
    /// the stderr thread may not run for tens of milliseconds (20 ms was seen to be too short in a full test run on 2
    /// busy cores).</summary>
    public static readonly TimeSpan StderrCatchUp = TimeSpan.FromSeconds(1);

    public static string NotAProtocolMessage(string problem, ReadOnlySpan<byte> line) =>
        $"the handler wrote a line to stdout that is not a protocol message ({problem}; print to stderr instead): {AnswerLine.Preview(line)}";

    public static string WithoutRequestId(ReadOnlySpan<byte> line) => $"the handler wrote a line without a requestId: {AnswerLine.Preview(line)}";

    public static string OutputOver(int limit) => $"handler output exceeded {limit} bytes";

    public static string RestartedAfterLineOver(int limit) => $"the handler process was restarted after writing a line over {limit} bytes";

    public const string StoppedReadingStdin = "the handler process stopped reading its stdin";

    public static string TimedOut(int timeoutMs) => $"handler exceeded its timeout of {timeoutMs} ms";
}
