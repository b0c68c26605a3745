namespace Tern.Core.Executions;

/// <summary>One line a handler wrote during one execution. <paramref name="Stream"/> is "stdout" or "stderr";
/// <paramref name="Time"/> is when the execution finished (the agent reports a call's output as a whole), so the lines
/// of one execution share it and keep their order by position.</summary>
public sealed record LogLine(DateTimeOffset Time, string Function, string ExecutionId, string Stream, string Text)
{
    public const string Stdout = "stdout";
    public const string Stderr = "stderr";
}
