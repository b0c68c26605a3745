namespace Tern.Pools;

/// <summary>No worker slot (or function concurrency slot) became free before the call's deadline: a 429.</summary>
public sealed class PoolExhaustedException(string function, string reason, TimeSpan waited, bool queueFull = false)
    : Exception($"function '{function}' is at capacity ({reason}); waited {waited.TotalMilliseconds:0} ms")
{
    public string Function { get; } = function;
    public string Reason { get; } = reason;

    /// <summary>Turned away at once because queueSize calls were already waiting, rather than after waiting.</summary>
    public bool QueueFull { get; } = queueFull;
}
