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
    /// <summary>1 while a sweep runs: timer callbacks can overlap (a sweep whose callers' continuations run long, on a
    /// loaded machine), and two sweeps at once would fail the same calls twice.</summary>
    private static int _sweeping;

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

    /// <summary>Fails (and forgets) the calls past their deadline. Runs on the sweeper timer only, one sweep at a time.</summary>
    private void Sweep(long now)
    {
        List<(string Id, PendingCall Call)>? expired = null;
        lock (_calls)
        {
            foreach (var (id, call) in _calls)
                if (call.Deadline <= now) (expired ??= []).Add((id, call));
            if (expired is null) return; // the common case: nothing expired, nothing allocated
            foreach (var (id, _) in expired) _calls.Remove(id);
        }
        // Completed outside the lock: each caller's continuation runs inline here.
        foreach (var (_, call) in expired) call.TrySetException(new TimeoutException("the agent did not answer in time"));
    }

    private static void SweepAll()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1) return; // the previous sweep is still running: skip this tick
        try
        {
            var now = Environment.TickCount64;
            PendingCalls[] live;
            lock (RegistryLock) live = [.. Live];
            foreach (var calls in live) calls.Sweep(now);
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
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
