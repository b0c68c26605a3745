namespace Tern.Core.Executions;

/// <summary>Where an execution is in its life. queued and running are live; the others are terminal.</summary>
public static class ExecutionStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Success = "success";
    public const string Error = "error";
    public const string Timeout = "timeout";

    public static bool IsTerminal(string status) => status is Success or Error or Timeout;
}
