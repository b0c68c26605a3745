namespace Tern.Invocation.Async;

/// <summary>The function's queue already holds queueSize waiting calls: a 429 with Retry-After.</summary>
public sealed class QueueFullException(string function, int queueSize)
    : Exception($"function '{function}' has {queueSize} calls waiting already (queueSize); retry later")
{
    public string Function { get; } = function;
}
