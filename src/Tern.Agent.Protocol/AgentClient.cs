using System.Collections.Concurrent;

namespace Tern.Agent.Protocol;

/// <summary>The host's side of one agent connection: sends Init/Exec/Ping/Stop and matches each Resp to its
/// caller by RequestId, so several calls can be in flight on one worker.</summary>
public sealed class AgentClient : IAsyncDisposable
{
    private readonly AgentChannel _channel;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<RespMessage>> _pending = new();
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

    public Task<RespMessage> PingAsync(TimeSpan timeout, CancellationToken ct)
    {
        var id = "ping-" + Interlocked.Increment(ref _nextId);
        return SendAsync(id, new PingMessage { RequestId = id }, timeout, ct);
    }

    private async Task<RespMessage> SendAsync(string requestId, AgentMessage message, TimeSpan timeout, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource<RespMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(requestId, tcs)) throw new InvalidOperationException($"request id {requestId} is already in flight");
        try
        {
            if (Completion.IsCompleted) throw new AgentLostException("the agent connection is closed");
            await _channel.WriteAsync(message, ct).ConfigureAwait(false);
            return await tcs.Task.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (IOException e) when (e is not FrameTooLargeException and not AgentLostException)
        {
            throw new AgentLostException($"the agent connection failed: {e.Message}", e);
        }
        finally
        {
            _pending.TryRemove(requestId, out _);
        }
    }

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
                if (message is RespMessage resp && _pending.TryGetValue(resp.RequestId, out var tcs)) tcs.TrySetResult(resp);
            }
        }
        catch (Exception e)
        {
            // Whatever broke the connection (I/O, a malformed frame), every waiting call must learn of it now.
            failure = e;
        }
        var lost = failure is null ? "the worker closed its connection before answering"
            : $"the worker connection broke before answering: {failure.Message}";
        foreach (var tcs in _pending.Values) tcs.TrySetException(new AgentLostException(lost, failure));
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
        _closing.Dispose();
    }
}
