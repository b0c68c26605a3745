using Tern.Agent.Protocol;
using Tern.Agent.Protocol.LineProtocol;
using Tern.Runtimes;

namespace Tern.Agent.Persistent;

/// <summary>Persistent mode: one long-lived handler process per worker (a runtime's bootstrap, or the user's own
/// executable) that loads the handler once and serves many calls over the line protocol (docs/persistent-mode.md).
/// <para>The hot path is a relay with no thread hops: the agent's main thread writes a call's request line straight
/// to the handler's stdin, and the handler's stdout pump writes its answer straight to the host.</para>
/// <para>Init is answered once the process reported ready. A call that times out is answered "timeout" and the process
/// is killed; a process that crashes fails the calls it was serving; either way a new process is loaded for the calls
/// still waiting, or for the next one. Runtimes whose bootstrap serves one call at a time (Python, Java) get one call
/// at a time from here, the rest waiting in the agent, so a call's timeout never kills the process while it is busy
/// with another.</para></summary>
internal sealed class PersistentModeRunner : IModeRunner, IHandlerListener
{
    private const int StderrTailBytes = LineProtocolFailures.StderrTailBytes;
    private static readonly TimeSpan MinLoadTimeout = TimeSpan.FromSeconds(30);

    private readonly InitMessage _init;
    private readonly RuntimeDefinition? _runtime;
    private readonly RequestLine _requests;
    private readonly CallWatchdog _watchdog;
    private readonly TimeSpan _loadTimeout;
    private readonly int _slots;
    private readonly Lock _lock = new();
    private readonly Queue<PersistentCall> _waiting = new();
    private readonly Dictionary<string, PersistentCall> _running = new(StringComparer.Ordinal);
    private AnswerWriter? _answers;
    private HandlerProcess? _process; // the last process loaded (check IsAlive); a reload disposes it
    private bool _loading;
    private bool _disposed;
    private string? _unreadyStderr;
    private bool _handOff; // the host offered to take the handler's pipes, and nothing here needs them
    private (string RequestId, AnswerWriter Answers)? _watch;
    private AgentError? _handedOffEnd;

    public PersistentModeRunner(InitMessage init)
    {
        _init = init;
        _runtime = RuntimeCatalog.TryGet(init.Runtime, out var runtime) ? runtime : null;
        _requests = new RequestLine(init);
        _slots = _runtime?.PersistentConcurrent == true ? Math.Max(1, init.InstanceConcurrency) : 1;
        _loadTimeout = TimeSpan.FromMilliseconds(Math.Max(MinLoadTimeout.TotalMilliseconds, init.TimeoutMs));
        _watchdog = new CallWatchdog(OnDeadline);
        // Only when the host may send no more calls at once than the handler takes: queueing would need the agent.
        _handOff = init.Handoff && HandoffChannel.Available && _slots >= Math.Max(1, init.InstanceConcurrency);
    }

    /// <summary>True once the handler's pipes went to the host: calls no longer pass through here.</summary>
    public bool HandedOff { get; private set; }

    private int MaxLineBytes => _init.MaxMessageBytes > 0 ? _init.MaxMessageBytes : AgentChannel.DefaultMaxFrameBytes;

    public async Task<AgentError?> StartAsync()
    {
        if (Unsupported() is { } error) return error;
        lock (_lock) _loading = true;
        var (process, loadError) = await LoadAsync().ConfigureAwait(false);
        lock (_lock)
        {
            _loading = false;
            _process = process;
        }
        if (process is not null && _handOff && !TryHandOff(process))
        {
            // The pipes could not be passed: start over with a handler this agent relays to, as without a handoff.
            _handOff = false;
            lock (_lock) _process = null;
            process.Dispose();
            return await StartAsync().ConfigureAwait(false);
        }
        return loadError;
    }

    private bool TryHandOff(HandlerProcess process)
    {
        try
        {
            HandoffChannel.Send(process.DetachPipes());
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException or ObjectDisposedException)
        {
            Console.Error.WriteLine($"tern-agent: handoff failed, relaying instead: {e.Message}");
            return false;
        }
        process.ReleasePipes();
        HandedOff = true;
        return true;
    }

    /// <summary>The host asks to hear when the handed-off handler ends (answered once, with how it ended).</summary>
    public void Watch(WatchMessage watch, AnswerWriter answers)
    {
        AgentError? ended;
        lock (_lock)
        {
            ended = _handedOffEnd;
            if (ended is null) _watch = (watch.RequestId, answers);
        }
        if (ended is not null) answers.Send(WatchAnswer(watch.RequestId, ended));
    }

    private static RespMessage WatchAnswer(string requestId, AgentError error) => new()
    {
        RequestId = requestId, Status = "error", Error = new AgentError { Code = error.Code, Message = error.Message },
    };

    public void Dispatch(ExecMessage exec, AnswerWriter answers)
    {
        _answers = answers;
        if (HandedOff)
        {
            answers.Send(new RespMessage
            {
                RequestId = exec.RequestId, Status = "error",
                Error = new AgentError { Code = "HandedOff", Message = "this worker's handler was handed to the host, which calls it directly" },
            });
            return;
        }
        if (Unsupported() is { } unsupported)
        {
            answers.Send(new RespMessage { RequestId = exec.RequestId, Status = "error", Error = unsupported });
            return;
        }
        var timeoutMs = exec.TimeoutMs > 0 ? exec.TimeoutMs : _init.TimeoutMs > 0 ? _init.TimeoutMs : 15 * 60 * 1000;
        var deadlineMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + timeoutMs;
        var call = new PersistentCall(exec, timeoutMs, _requests.Build(exec, deadlineMs));
        HandlerProcess? sendTo = null;
        var load = false;
        lock (_lock)
        {
            if (_disposed)
            {
                answers.Send(Failed(call, new AgentError { Code = HandlerProcess.CrashedCode, Message = "the worker is stopping" }));
                return;
            }
            _watchdog.Add(call);
            if (_process is { IsAlive: true } process && _running.Count < _slots) sendTo = MarkSent(call, process);
            else
            {
                _waiting.Enqueue(call);
                load = StartLoadIfNeeded();
            }
        }
        sendTo?.Send(call.Line.Span);
        if (load) _ = Task.Run(ReloadAsync);
    }

    public void OnAnswer(HandlerProcess process, AnswerLine answer)
    {
        PersistentCall? call;
        lock (_lock)
        {
            // Unknown ids answer calls that were given up (timed out) or never sent: ignore them.
            if (!_running.TryGetValue(answer.RequestId!, out call) || call.SentTo != process) return;
            Finish(call);
        }
        var resp = answer.ToResp();
        process.Stderr.CatchUp(LineProtocolFailures.StderrCatchUp);
        resp.StderrTail = process.Stderr.TextSince(call.StderrMark, StderrTailBytes);
        resp.DurationMs = call.ElapsedMs;
        _answers?.Send(resp);
        FeedWaiting(process);
    }

    public void OnOversizedAnswer(HandlerProcess process, string requestId, AgentError error)
    {
        PersistentCall? call;
        lock (_lock)
        {
            if (!_running.TryGetValue(requestId, out call) || call.SentTo != process) return;
            Finish(call);
        }
        _answers?.Send(Failed(call, error));
    }

    public void OnEnded(HandlerProcess process, AgentError error)
    {
        if (HandedOff)
        {
            (string RequestId, AnswerWriter Answers)? watch;
            lock (_lock)
            {
                _handedOffEnd ??= error;
                watch = _watch;
                _watch = null;
            }
            if (watch is { } w) w.Answers.Send(WatchAnswer(w.RequestId, error));
            return;
        }
        List<PersistentCall> failed = [];
        var load = false;
        lock (_lock)
        {
            foreach (var call in _running.Values.Where(c => c.SentTo == process).ToList())
            {
                Finish(call);
                failed.Add(call);
            }
            if (_waiting.Count > 0) load = StartLoadIfNeeded();
        }
        foreach (var call in failed)
            _answers?.Send(Failed(call, error, process.Stderr.TextSince(call.StderrMark, StderrTailBytes)));
        if (load) _ = Task.Run(ReloadAsync);
    }

    /// <summary>A call's time is up: it is answered "timeout". If the handler has it, the process is killed, so a stuck
    /// handler cannot hold up later calls; the next call (or one waiting) loads a fresh one.</summary>
    private void OnDeadline(PersistentCall call)
    {
        HandlerProcess? stuck;
        lock (_lock)
        {
            if (call.Done) return;
            stuck = call.SentTo;
            Finish(call);
        }
        var tail = stuck?.Stderr.TextSince(call.StderrMark, StderrTailBytes);
        _answers?.Send(new RespMessage
        {
            RequestId = call.RequestId, Status = "timeout", StderrTail = tail, DurationMs = call.ElapsedMs,
            Error = new AgentError { Code = LineProtocolFailures.TimeoutCode, Message = LineProtocolFailures.TimedOut(call.TimeoutMs) },
        });
        stuck?.Stop(new AgentError
        {
            Code = HandlerProcess.CrashedCode,
            Message = $"the handler process was restarted because call {call.RequestId} exceeded its timeout of {call.TimeoutMs} ms",
        });
    }

    /// <summary>Hands waiting calls to free slots. Off the stdout pump thread: a blocking write to stdin there could
    /// deadlock with a handler that is itself blocked writing its stdout.</summary>
    private void FeedWaiting(HandlerProcess process)
    {
        lock (_lock)
        {
            if (_waiting.Count == 0) return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.runner.SendWaiting(state.process), (runner: this, process), preferLocal: false);
    }

    private void SendWaiting(HandlerProcess process)
    {
        while (true)
        {
            PersistentCall? call = null;
            lock (_lock)
            {
                if (_process != process || !process.IsAlive || _running.Count >= _slots) return;
                while (_waiting.TryDequeue(out var next))
                {
                    if (next.Done) continue;
                    call = next;
                    MarkSent(call, process);
                    break;
                }
            }
            if (call is null) return;
            process.Send(call.Line.Span);
        }
    }

    /// <summary>Loads a new process for the waiting calls (after a crash or a timeout, or when none was running).
    /// The load counts against their time; if it fails they get the load error. Runs on a pool thread: disposing the
    /// old process waits for its stdout pump, which is where a crash is reported from.</summary>
    private async Task ReloadAsync()
    {
        HandlerProcess? old;
        lock (_lock) old = _process;
        old?.Dispose();
        OrphanReaper.KillStrays(); // whatever the dead handler left behind (and with it, its pipes)
        var (process, error) = await LoadAsync().ConfigureAwait(false);
        List<PersistentCall> failed = [];
        lock (_lock)
        {
            _loading = false;
            if (_disposed)
            {
                process?.Dispose();
                process = null;
                error ??= new AgentError { Code = HandlerProcess.CrashedCode, Message = "the worker is stopping" };
            }
            _process = process;
            if (process is null)
            {
                while (_waiting.TryDequeue(out var call))
                {
                    if (call.Done) continue;
                    Finish(call);
                    failed.Add(call);
                }
            }
        }
        foreach (var call in failed) _answers?.Send(Failed(call, error!));
        if (process is not null) SendWaiting(process);
    }

    /// <summary>Starts (or adopts the zygote as) a handler process and waits for its ready line.</summary>
    private async Task<(HandlerProcess? Process, AgentError? Error)> LoadAsync()
    {
        HandlerProcess process;
        try
        {
            process = (_init.Runtime == "python" ? PythonZygote.Take(_init, _runtime!, MaxLineBytes, this, _handOff) : null)
                ?? (_init.Runtime == "wasm" ? TakeWasmZygote() : null)
                ?? HandlerProcess.Start(_runtime!.PersistentCommand!(_init.Handler, _init.MemoryMb),
                    env => HandlerEnvironment.FillPersistent(env, _init, _runtime), MaxLineBytes, this, _handOff);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException or OutOfMemoryException)
        {
            return (null, new AgentError { Code = HandlerProcess.LoadFailedCode, Message = $"cannot start the handler process: {e.Message}" });
        }
        using var timeout = new CancellationTokenSource(_loadTimeout);
        try
        {
            var error = await process.WaitReadyAsync(timeout.Token).ConfigureAwait(false);
            if (error is null) return (process, null);
            process.Dispose();
            return (null, error);
        }
        catch (OperationCanceledException)
        {
            _unreadyStderr = process.Stderr.Text(4096);
            process.Dispose();
            var tail = _unreadyStderr;
            return (null, new AgentError
            {
                Code = HandlerProcess.LoadFailedCode,
                Message = $"the handler was not ready within {_loadTimeout.TotalSeconds:0} s" + (string.IsNullOrWhiteSpace(tail) ? "" : ": " + tail.TrimEnd()),
            });
        }
    }

    private HandlerProcess? TakeWasmZygote()
    {
        var env = new Dictionary<string, string?>();
        HandlerEnvironment.FillPersistent(env, _init, _runtime!);
        return WasmZygote.TakeForPersistent(_runtime!.PersistentCommand!(_init.Handler, _init.MemoryMb), env, MaxLineBytes, this, _handOff);
    }

    private bool StartLoadIfNeeded()
    {
        if (_loading || _process is { IsAlive: true }) return false;
        _loading = true;
        return true;
    }

    private HandlerProcess MarkSent(PersistentCall call, HandlerProcess process)
    {
        call.SentTo = process;
        call.StderrMark = process.Stderr.Mark;
        _running[call.RequestId] = call;
        return process;
    }

    /// <summary>Under the lock: the call is answered now, by whoever called this.</summary>
    private void Finish(PersistentCall call)
    {
        call.Done = true;
        if (call.SentTo is not null) _running.Remove(call.RequestId);
        _watchdog.Remove(call);
    }

    private static RespMessage Failed(PersistentCall call, AgentError error, string? stderrTail = null) => new()
    {
        RequestId = call.RequestId, Status = "error", DurationMs = call.ElapsedMs, StderrTail = stderrTail,
        Error = new AgentError { Code = error.Code, Message = error.Message },
    };

    private AgentError? Unsupported()
    {
        if (_runtime is null)
            return new AgentError { Code = "UnknownRuntime", Message = $"runtime '{_init.Runtime}' is not known to this agent" };
        if (_runtime.PersistentCommand is null)
            return new AgentError { Code = HandlerProcess.LoadFailedCode, Message = $"runtime '{_init.Runtime}' has no persistent mode" };
        return null;
    }

    public ValueTask DisposeAsync()
    {
        HandlerProcess? process;
        lock (_lock)
        {
            _disposed = true;
            process = _process;
            _process = null;
        }
        _watchdog.Stop();
        process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
