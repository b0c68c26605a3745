namespace Tern.Core.Invocations;

/// <summary>Why a call did not succeed. Codes are stable strings callers can switch on.</summary>
public sealed record InvocationError(string Code, string Message)
{
    public const string HandlerFailed = "HandlerFailed";
    public const string Timeout = "Timeout";
    public const string OutOfMemory = "OutOfMemory";
    public const string OutputTooLarge = "OutputTooLarge";
    public const string WorkerCrashed = "WorkerCrashed";
    public const string HandlerNotFound = "HandlerNotFound";
    public const string HandlerCrashed = "HandlerCrashed";
    public const string HandlerLoadFailed = "HandlerLoadFailed";
    public const string PayloadTooLarge = "PayloadTooLarge";
    public const string ProcessLimit = "ProcessLimit";
}
