namespace Tern.Core.Invocations;

public static class InvocationStatus
{
    public const string Success = "success";
    public const string Error = "error";
    public const string Timeout = "timeout";
}
