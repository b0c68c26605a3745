using System.Buffers;
using System.Diagnostics;
using System.IO.Pipes;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Tern.Agent.Protocol;
using Tern.Agent.Protocol.LineProtocol;
using Tern.Core.Invocations;

namespace Tern.Pools.Lanes;

/// <summary>The daemon's side of a persistent handler whose pipes its agent handed over (docs/hot-path.md, "handoff"):
/// a call's request line is written straight to the handler's stdin and its answer read straight from its stdout, so
/// the agent is woken for none of it. The agent still watches the process and says how it ended.
/// <para>What the agent did per call is done here the same way: answers matched by requestId, the call's stderr since
/// it started as its tail (waiting while stderr bytes sit unread, so prints before the answer are not lost), a timeout
/// per call, and failures in the agent's words. Unlike the agent, a lane never reloads a handler: after a crash, a
/// timeout or a protocol violation it is broken, and the pool replaces the whole worker (which it does after those
/// failures anyway).</para></summary>
public sealed class HandlerLane : IDisposable
{
    private const int StderrTailBytes = LineProtocolFailures.StderrTailBytes;
    private const int MessageChars = 4096;
    private static readonly TimeSpan ExitReportWait = TimeSpan.FromSeconds(2);

    private readonly PipeStream _stdin;
    private readonly PipeStream _stdout;
    private readonly PipeStream _stderr;
    private readonly RollingTail _stderrTail = new(StderrTailBytes);
    private readonly RequestLine _requests;
    private readonly int _defaultTimeoutMs;
    private readonly int _maxLineBytes;
    private readonly Task<RespMessage> _handlerEnded;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LaneCall> _calls = new(StringComparer.Ordinal);
    private readonly Lock _writeLock = new();
    private ArrayBufferWriter<byte> _line = new(1024);
    private readonly Utf8JsonWriter _json;
    private readonly Timer _timer;
    private long _armedAt = long.MaxValue; // the timer's due time (Environment.TickCount64), MaxValue when idle
    private volatile string? _broken;

    /// <param name="pipes">The handler's stdin (write end), stdout and stderr (read ends), now owned by the lane.</param>
    public HandlerLane(int[] pipes, InitMessage init, AgentClient agent, int maxLineBytes)
    {
        _stdin = Pipe(pipes[0], PipeDirection.Out);
        _stdout = Pipe(pipes[1], PipeDirection.In);
        _stderr = Pipe(pipes[2], PipeDirection.In);
        _requests = new RequestLine(init);
        _defaultTimeoutMs = init.TimeoutMs > 0 ? init.TimeoutMs : 15 * 60 * 1000;
        _maxLineBytes = maxLineBytes;
        _json = new Utf8JsonWriter(_line, new JsonWriterOptions { SkipValidation = true });
        _timer = new Timer(static state => ((HandlerLane)state!).OnTimer(), this, Timeout.Infinite, Timeout.Infinite);
        _handlerEnded = agent.WatchHandlerAsync();
        // Parked threads, one wake-up per answer (the agent's relay did the same): .NET waits on an anonymous pipe
        // by blocking a thread-pool thread, which with many workers would starve the pool.
        // Each thread closes its own pipe when it ends: .NET closes a pipe only once a read in progress on it returns.
        _stderrTail.TrackPipe(pipes[2]); // before the pump thread runs: a first call's catch-up must see the pipe
        new Thread(PumpStdout) { IsBackground = true, Name = "tern-lane-stdout" }.Start();
        new Thread(() =>
        {
            _stderrTail.CopyFrom(_stderr);
            _stderr.Dispose();
        }) { IsBackground = true, Name = "tern-lane-stderr" }.Start();
    }

    private static AnonymousPipeClientStream Pipe(int fd, PipeDirection direction) =>
        new(direction, new SafePipeHandle(fd, ownsHandle: true));

    /// <summary>Set once no call may go to this handler any more (it ended, broke the protocol, timed out).</summary>
    public bool IsBroken => _broken is not null;

    /// <summary>Runs one call. Never throws for the handler's failures: they are answers, as from the agent.</summary>
    public Task<RespMessage> ExecAsync(ExecMessage exec, CancellationToken ct)
    {
        var timeoutMs = exec.TimeoutMs > 0 ? exec.TimeoutMs : _defaultTimeoutMs;
        var call = new LaneCall(exec.RequestId, timeoutMs, Environment.TickCount64 + timeoutMs, _stderrTail.Mark);
        lock (_lock)
        {
            if (_broken is { } why) return Task.FromResult(Failed(call, InvocationError.HandlerCrashed, why));
            if (!_calls.TryAdd(call.RequestId, call)) throw new InvalidOperationException($"request id {call.RequestId} is already in flight");
            Arm(call.Deadline);
        }
        try
        {
            lock (_writeLock)
            {
                _json.Reset(_line);
                _requests.Write(_json, exec, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + timeoutMs);
                _line.Write("\n"u8);
                _stdin.Write(_line.WrittenSpan); // blocks only while the pipe is full (a big event, a stuck handler)
                if (_line.Capacity > 1024 * 1024) _line = new ArrayBufferWriter<byte>(1024);
                else _line.ResetWrittenCount();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The handler is gone (its stdout's end will say so); this call ends as the pump decides, or here.
            Break(InvocationError.HandlerCrashed, LineProtocolFailures.StoppedReadingStdin);
        }
        if (ct.CanBeCanceled) call.WatchCancellation(this, ct);
        return call.Task;
    }

    private void PumpStdout()
    {
        var reader = new LineReader(_stdout);
        try
        {
            while (!IsBroken)
            {
                var line = reader.ReadLine(_maxLineBytes, out var oversized);
                if (oversized)
                {
                    OnOversizedLine(line);
                    return;
                }
                if (line.IsEmpty && reader.AtEnd) break;
                OnLine(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        finally
        {
            _stdout.Dispose();
        }
        if (!IsBroken) OnStdoutEnded();
    }

    private void OnLine(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Trim(" \t\r"u8).IsEmpty) return;
        if (!AnswerLine.TryParse(bytes, out var answer, out var problem))
        {
            Break(LineProtocolFailures.ProtocolErrorCode, LineProtocolFailures.NotAProtocolMessage(problem!, bytes));
            return;
        }
        if (answer.RequestId is null)
        {
            if (answer.Ready is not null) return; // a repeated ready line is harmless
            Break(LineProtocolFailures.ProtocolErrorCode, LineProtocolFailures.WithoutRequestId(bytes));
            return;
        }
        LaneCall? call;
        lock (_lock) _calls.Remove(answer.RequestId, out call);
        if (call is null) return; // given up (timed out, cancelled): its late answer is dropped
        var resp = answer.ToResp();
        _stderrTail.CatchUp(LineProtocolFailures.StderrCatchUp);
        resp.StderrTail = _stderrTail.TextSince(call.StderrMark, StderrTailBytes);
        resp.DurationMs = call.ElapsedMs;
        call.Complete(resp);
    }

    /// <summary>An answer over the limit: its call gets OutputTooLarge, the rest of stdout can no longer be trusted.</summary>
    private void OnOversizedLine(ReadOnlySpan<byte> head)
    {
        if (AnswerLine.RequestIdAtStart(head) is { } requestId)
        {
            LaneCall? call;
            lock (_lock) _calls.Remove(requestId, out call);
            call?.Complete(Failed(call, InvocationError.OutputTooLarge, LineProtocolFailures.OutputOver(_maxLineBytes)));
        }
        Break(InvocationError.HandlerCrashed, LineProtocolFailures.RestartedAfterLineOver(_maxLineBytes));
    }

    /// <summary>stdout ended: the handler exited (or closed it). The agent says how, the stderr pipe says why.</summary>
    private void OnStdoutEnded()
    {
        var why = "the handler process closed its stdout";
        try
        {
            if (_handlerEnded.Wait(ExitReportWait) && _handlerEnded.Result.Error?.Message is { Length: > 0 } exit) why = exit;
        }
        catch (AggregateException) { } // the agent went too: the worker is gone
        _stderrTail.CatchUp(LineProtocolFailures.StderrCatchUp);
        var tail = _stderrTail.Text(MessageChars);
        Break(InvocationError.HandlerCrashed, why + (string.IsNullOrWhiteSpace(tail) ? "" : ": " + tail.TrimEnd()));
    }

    /// <summary>No more calls go here; every call still waiting fails with <paramref name="message"/>.</summary>
    private void Break(string code, string message)
    {
        List<LaneCall> failed;
        lock (_lock)
        {
            _broken ??= message;
            failed = [.. _calls.Values];
            _calls.Clear();
        }
        foreach (var call in failed) call.Complete(Failed(call, code, message, _stderrTail.TextSince(call.StderrMark, StderrTailBytes)));
    }

    /// <summary>Under the lock: makes the timer fire by <paramref name="deadline"/> (one timer per lane, moved only
    /// when a call's deadline comes before the one it is set for).</summary>
    private void Arm(long deadline)
    {
        if (deadline >= _armedAt) return;
        _armedAt = deadline;
        _timer.Change(Math.Max(0, deadline - Environment.TickCount64), Timeout.Infinite);
    }

    private void OnTimer()
    {
        List<LaneCall>? expired = null;
        lock (_lock)
        {
            var now = Environment.TickCount64;
            var next = long.MaxValue;
            foreach (var call in _calls.Values)
            {
                if (call.Deadline <= now) (expired ??= []).Add(call);
                else next = Math.Min(next, call.Deadline);
            }
            if (expired is not null) foreach (var call in expired) _calls.Remove(call.RequestId);
            _armedAt = long.MaxValue;
            if (next != long.MaxValue) Arm(next);
            if (expired is not null) _broken ??= "a call exceeded its timeout: the handler is being replaced";
        }
        if (expired is null) return;
        foreach (var call in expired)
        {
            var resp = Failed(call, InvocationError.Timeout, LineProtocolFailures.TimedOut(call.TimeoutMs),
                _stderrTail.TextSince(call.StderrMark, StderrTailBytes));
            resp.Status = InvocationStatus.Timeout;
            call.Complete(resp);
        }
    }

    private void Cancel(LaneCall call)
    {
        bool removed;
        lock (_lock) removed = _calls.Remove(call.RequestId);
        if (removed) call.TrySetCanceled();
    }

    private static RespMessage Failed(LaneCall call, string code, string message, string? stderrTail = null) => new()
    {
        RequestId = call.RequestId, Status = InvocationStatus.Error, DurationMs = call.ElapsedMs, StderrTail = stderrTail,
        Error = new AgentError { Code = code, Message = message },
    };

    /// <summary>Takes no more calls and fails those waiting (before the worker is stopped).</summary>
    public void Close() => Break(InvocationError.HandlerCrashed, "the worker is stopping");

    /// <summary>Call once the worker is stopped: a write blocked on a handler that stopped reading has failed by then.
    /// The read ends are closed by their threads, which end with the handler.</summary>
    public void Dispose()
    {
        Close();
        _timer.Dispose();
        lock (_writeLock)
        {
            _json.Dispose();
            try { _stdin.Dispose(); } catch (IOException) { }
        }
    }

    /// <summary>One call in flight: its own task source (no second allocation), deadline and stderr mark.</summary>
    private sealed class LaneCall(string requestId, int timeoutMs, long deadline, long stderrMark) : TaskCompletionSource<RespMessage>
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private CancellationTokenRegistration _cancellation;

        public string RequestId { get; } = requestId;
        public int TimeoutMs { get; } = timeoutMs;
        public long Deadline { get; } = deadline;
        public long StderrMark { get; } = stderrMark;
        public double ElapsedMs => Stopwatch.GetElapsedTime(_started).TotalMilliseconds;

        public void WatchCancellation(HandlerLane lane, CancellationToken ct) =>
            _cancellation = ct.UnsafeRegister(static (state, _) => { var (l, c) = ((HandlerLane, LaneCall))state!; l.Cancel(c); }, (lane, this));

        /// <summary>Completes the caller inline, on this thread (as the agent client does: no hop).</summary>
        public void Complete(RespMessage resp)
        {
            _cancellation.Dispose();
            TrySetResult(resp);
        }
    }
}
