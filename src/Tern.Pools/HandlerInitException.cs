namespace Tern.Pools;

/// <summary>The worker started but its agent could not load the handler (for example an ImportError):
/// the function's fault, reported as a failed call rather than a platform error.</summary>
public sealed class HandlerInitException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
