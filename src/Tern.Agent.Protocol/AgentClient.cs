namespace Tern.Agent.Protocol;

/// <summary>The host's side of one agent connection: sends Init/Exec/Ping/Stop and matches each Resp to its
/// caller by RequestId, so several calls can be in flight on one worker.
/// <para>A Resp completes its caller inline on the read loop (no hop through the thread pool: each wake-up is
/// costly on the small paravirtual machines Tern targets). Callers therefore must not block after an await of
/// ExecAsync; Tern's callers are async throughout. Timeouts are coarse (a shared sweep every
/// <see cref="PendingCalls.SweepInterval"/>): they are a backstop behind the agent's own, exact timeout.</para></summary>
public sealed class AgentClient : IAsyncDisposable
{
    private readonly AgentChannel _channel;
    private readonly PendingCalls _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private long _nextId;
    private int _disposed;

    public AgentClient(Stream stream, int maxFrameBytes = AgentChannel.DefaultMaxFrameBytes)
    {
        _channel = new AgentChannel(stream, maxFrameBytes);
        Completion = Task.Run(ReadLoopAsync);
    }

    /// <summary>Completes when the connection is gone; every call still waiting then fails with AgentLostException.</summary>
    public Task Completion { get; }

    /// <summary>Sends Init; the answer says whether the handler loaded (status "error" with a code when it did not).</summary>
    public Task<RespMessage> InitAsync(InitMessage init, TimeSpan timeout, CancellationToken ct) =>
        SendAsync("init", init, timeout, ct);

    /// <summary>Runs one call; throws TimeoutException if no answer arrives within <paramref name="timeout"/>.</summary>
    public Task<RespMessage> ExecAsync(ExecMessage exec, TimeSpan timeout, CancellationToken ct) =>
        SendAsync(exec.RequestId, exec, timeout, ct);

    /// <summary>After a handoff: completes (with status "error" and how it ended) when the handed-off handler process
    /// has ended; fails with AgentLostException if the agent goes first.</summary>
    public Task<RespMessage> WatchHandlerAsync() =>
        SendAsync("watch", new WatchMessage { RequestId = "watch" }, Timeout.InfiniteTimeSpan, CancellationToken.None);

    public Task<RespMessage> PingAsync(TimeSpan timeout, CancellationToken ct)
    {
        var id = "ping-" + Interlocked.Increment(ref _nextId);
        return SendAsync(id, new PingMessage { RequestId = id }, timeout, ct);
    }

    /// <summary>Registers the call, sends its frame and returns the call's task. When the frame is written at once (the
    /// usual case) and there is no token to watch, the caller awaits the pending call itself: no async frame here.
    /// The answer, a sweep or a lost connection removes the call from the pending set.</summary>
    private Task<RespMessage> SendAsync(string requestId, AgentMessage message, TimeSpan timeout, CancellationToken ct)
    {
        var call = _pending.Add(requestId, timeout);
        ValueTask write;
        try
        {
            if (Completion.IsCompleted) throw new AgentLostException("the agent connection is closed");
            write = _channel.WriteAsync(message, ct);
        }
        catch (Exception e)
        {
            _pending.Remove(requestId, call);
            return Task.FromException<RespMessage>(Lost(e));
        }
        return write.IsCompletedSuccessfully && !ct.CanBeCanceled ? call.Task : WaitAsync(requestId, call, write, ct);
    }

    private async Task<RespMessage> WaitAsync(string requestId, PendingCall call, ValueTask write, CancellationToken ct)
    {
        try
        {
            await write.ConfigureAwait(false);
            if (!ct.CanBeCanceled) return await call.Task.ConfigureAwait(false);
            await using (ct.Register(static c => ((PendingCall)c!).TrySetCanceled(), call).ConfigureAwait(false))
                return await call.Task.ConfigureAwait(false);
        }
        catch (Exception e) when (Lost(e) != e)
        {
            throw Lost(e);
        }
        finally
        {
            _pending.Remove(requestId, call);
        }
    }

    /// <summary>An I/O failure of the connection is the worker lost; anything else is itself.</summary>
    private static Exception Lost(Exception e) => e is IOException and not FrameTooLargeException and not AgentLostException
        ? new AgentLostException($"the agent connection failed: {e.Message}", e)
        : e;

    private async Task ReadLoopAsync()
    {
        Exception? failure = null;
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                AgentMessage? message;
                try
                {
                    message = await _channel.ReadAsync(_closing.Token).ConfigureAwait(false);
                }
                catch (FrameTooLargeException)
                {
                    continue; // skipped whole; its caller times out rather than the worker dying
                }
                if (message is null) break;
                if (message is RespMessage resp) _pending.Complete(resp);
            }
        }
        catch (Exception e)
        {
            // Whatever broke the connection (I/O, a malformed frame), every waiting call must learn of it now.
            failure = e;
        }
        var lost = failure is null ? "the worker closed its connection before answering"
            : $"the worker connection broke before answering: {failure.Message}";
        _pending.FailAll(new AgentLostException(lost, failure));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        try
        {
            if (!Completion.IsCompleted) await _channel.WriteAsync(new StopMessage()).AsTask().WaitAsync(TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or TimeoutException or ObjectDisposedException) { }
        _closing.Cancel();
        await _channel.DisposeAsync().ConfigureAwait(false);
        await Completion.ConfigureAwait(false);
        _pending.Dispose();
        _closing.Dispose();
    }
}
