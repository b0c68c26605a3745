namespace Tern.Agent.Protocol;

/// <summary>The calls of one connection waiting for their Resp, by RequestId, with a deadline each. One timer for the
/// whole process sweeps every live connection's calls, so a call costs no timer of its own.</summary>
internal sealed class PendingCalls : IDisposable
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(100);

    private static readonly Lock RegistryLock = new();
    private static readonly List<PendingCalls> Live = [];
    private static readonly Timer Sweeper = new(static _ => SweepAll(), null, SweepInterval, SweepInterval);

    private readonly Dictionary<string, PendingCall> _calls = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, PendingCall>> _expired = [];

    public PendingCalls()
    {
        GC.KeepAlive(Sweeper);
        lock (RegistryLock) Live.Add(this);
    }

    /// <summary>Registers a call; throws InvalidOperationException if one with this id is already waiting.</summary>
    public PendingCall Add(string requestId, TimeSpan timeout)
    {
        var deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var call = new PendingCall(deadline);
        lock (_calls)
        {
            if (!_calls.TryAdd(requestId, call)) throw new InvalidOperationException($"request id {requestId} is already in flight");
        }
        return call;
    }

    public void Remove(string requestId, PendingCall call)
    {
        lock (_calls)
        {
            if (_calls.TryGetValue(requestId, out var current) && current == call) _calls.Remove(requestId);
        }
    }

    /// <summary>Hands the answer to its caller (on this thread); an answer nobody waits for is dropped.</summary>
    public void Complete(RespMessage resp)
    {
        PendingCall? call;
        lock (_calls) _calls.Remove(resp.RequestId, out call);
        call?.TrySetResult(resp);
    }

    public void FailAll(Exception error)
    {
        List<PendingCall> all;
        lock (_calls)
        {
            all = [.. _calls.Values];
            _calls.Clear();
        }
        foreach (var call in all) call.TrySetException(error);
    }

    /// <summary>Fails (and forgets) the calls past their deadline. Runs on the sweeper timer only.</summary>
    private void Sweep(long now)
    {
        lock (_calls)
        {
            foreach (var entry in _calls)
                if (entry.Value.Deadline <= now) _expired.Add(entry);
            foreach (var (id, _) in _expired) _calls.Remove(id);
        }
        foreach (var (_, call) in _expired) call.TrySetException(new TimeoutException("the agent did not answer in time"));
        _expired.Clear();
    }

    private static void SweepAll()
    {
        var now = Environment.TickCount64;
        PendingCalls[] live;
        lock (RegistryLock) live = [.. Live];
        foreach (var calls in live) calls.Sweep(now);
    }

    public void Dispose()
    {
        lock (RegistryLock) Live.Remove(this);
    }
}

/// <summary>One waiting call. Its continuation runs on the thread that completes it (see AgentClient).</summary>
internal sealed class PendingCall(long deadline) : TaskCompletionSource<RespMessage>(TaskCreationOptions.None)
{
    public long Deadline { get; } = deadline;
}
