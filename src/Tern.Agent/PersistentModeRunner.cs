using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Tern.Agent.Protocol;
using Tern.Runtimes;

namespace Tern.Agent;

/// <summary>Persistent mode: one long-lived handler process per worker (a runtime's bootstrap, or the user's own
/// executable) that loads the handler once and serves many calls over the line protocol (docs/persistent-mode.md).
/// Init is answered only once that process has reported ready. A call that times out is answered "timeout" and the
/// process is killed; a process that crashes fails the calls it was serving; either way the next call starts (and
/// loads) a new one.</summary>
internal sealed class PersistentModeRunner : IModeRunner
{
    private const int StderrTailBytes = 64 * 1024;
    private static readonly TimeSpan MinLoadTimeout = TimeSpan.FromSeconds(30);

    private readonly InitMessage _init;
    private readonly RuntimeDefinition? _runtime;
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private readonly SemaphoreSlim _slots;
    private readonly TimeSpan _loadTimeout;
    private volatile HandlerProcess? _current;
    private volatile bool _disposed;
    private string? _unreadyStderr;

    public PersistentModeRunner(InitMessage init)
    {
        _init = init;
        _runtime = RuntimeCatalog.TryGet(init.Runtime, out var runtime) ? runtime : null;
        // Python and Java bootstraps serve one call at a time: queue here rather than in their stdin, so a call's
        // timeout never kills the process while it is busy with another.
        var slots = _runtime?.PersistentConcurrent == true ? Math.Max(1, init.InstanceConcurrency) : 1;
        _slots = new SemaphoreSlim(slots, slots);
        _loadTimeout = TimeSpan.FromMilliseconds(Math.Max(MinLoadTimeout.TotalMilliseconds, init.TimeoutMs));
    }

    private int MaxLineBytes => _init.MaxMessageBytes > 0 ? _init.MaxMessageBytes : AgentChannel.DefaultMaxFrameBytes;

    public async Task<AgentError?> StartAsync()
    {
        if (Unsupported() is { } error) return error;
        using var timeout = new CancellationTokenSource(_loadTimeout);
        try
        {
            var (_, loadError) = await EnsureStartedAsync(timeout.Token).ConfigureAwait(false);
            return loadError;
        }
        catch (OperationCanceledException)
        {
            var tail = _unreadyStderr;
            return new AgentError
            {
                Code = HandlerProcess.LoadFailedCode,
                Message = $"the handler was not ready within {_loadTimeout.TotalSeconds:0} s" + (string.IsNullOrWhiteSpace(tail) ? "" : ": " + tail.TrimEnd()),
            };
        }
    }

    public async Task<RespMessage> RunAsync(ExecMessage exec)
    {
        var started = Stopwatch.GetTimestamp();
        var timeoutMs = exec.TimeoutMs > 0 ? exec.TimeoutMs : _init.TimeoutMs;
        var deadlineMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (timeoutMs > 0 ? timeoutMs : 15 * 60 * 1000);
        using var timeout = new CancellationTokenSource(timeoutMs > 0 ? timeoutMs : Timeout.Infinite);
        var resp = await RunCoreAsync(exec, timeoutMs, deadlineMs, timeout.Token).ConfigureAwait(false);
        resp.RequestId = exec.RequestId;
        resp.DurationMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return resp;
    }

    private async Task<RespMessage> RunCoreAsync(ExecMessage exec, int timeoutMs, long deadlineMs, CancellationToken ct)
    {
        if (Unsupported() is { } unsupported) return new RespMessage { Status = "error", Error = unsupported };
        try
        {
            await _slots.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return TimedOut(timeoutMs, null);
        }
        try
        {
            HandlerProcess? process;
            AgentError? loadError;
            try
            {
                // After a crash or a timeout the process is loaded again here; that counts against this call's time.
                (process, loadError) = await EnsureStartedAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return TimedOut(timeoutMs, null);
            }
            if (loadError is not null) return new RespMessage { Status = "error", Error = loadError };

            // This call's logs: what the handler wrote to stderr from here until its answer (at most 64 KB). With
            // instanceConcurrency > 1 the handler's calls overlap, so this may include lines of other calls running at
            // the same time (stderr carries no request id): best effort.
            var mark = process!.Stderr.Mark;
            try
            {
                var resp = await process.CallAsync(RequestLine(exec, deadlineMs), exec.RequestId, ct).ConfigureAwait(false);
                resp.StderrTail = process.Stderr.TextSince(mark, StderrTailBytes);
                return resp;
            }
            catch (OperationCanceledException)
            {
                // A stuck handler must not hold up later calls: end it now; the next call loads a fresh one.
                process.Stop(new AgentError
                {
                    Code = HandlerProcess.CrashedCode,
                    Message = $"the handler process was restarted because call {exec.RequestId} exceeded its timeout of {timeoutMs} ms",
                });
                return TimedOut(timeoutMs, process.Stderr.TextSince(mark, StderrTailBytes));
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>The running, ready process; or starts one (killing what is left of the last) and waits for its ready line.</summary>
    private async Task<(HandlerProcess? Process, AgentError? Error)> EnsureStartedAsync(CancellationToken ct)
    {
        var current = _current;
        if (current is { IsAlive: true }) return (current, null);
        await _startLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            current = _current;
            if (current is { IsAlive: true }) return (current, null);
            if (_disposed) return (null, new AgentError { Code = HandlerProcess.CrashedCode, Message = "the worker is stopping" });
            if (current is not null)
            {
                _current = null;
                current.Stop(new AgentError { Code = HandlerProcess.CrashedCode, Message = "the handler process was replaced" });
                OrphanReaper.KillStrays(); // whatever the dead handler left behind (and with it, its pipes)
                await current.DisposeAsync().ConfigureAwait(false);
            }

            HandlerProcess process;
            try
            {
                process = (_init.Runtime == "python" ? await PythonZygote.TakeAsync(_init, _runtime!, MaxLineBytes).ConfigureAwait(false) : null)
                    ?? HandlerProcess.Start(_runtime!.PersistentCommand!(_init.Handler, _init.MemoryMb),
                        env => HandlerEnvironment.FillPersistent(env, _init, _runtime), MaxLineBytes);
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
            {
                return (null, new AgentError { Code = HandlerProcess.LoadFailedCode, Message = $"cannot start the handler process: {e.Message}" });
            }

            AgentError? error;
            try
            {
                error = await process.WaitReadyAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _unreadyStderr = process.Stderr.Text(4096);
                await process.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            if (error is not null)
            {
                await process.DisposeAsync().ConfigureAwait(false);
                return (null, error);
            }
            _current = process;
            return (process, null);
        }
        finally
        {
            _startLock.Release();
        }
    }

    private AgentError? Unsupported()
    {
        if (_runtime is null)
            return new AgentError { Code = "UnknownRuntime", Message = $"runtime '{_init.Runtime}' is not known to this agent" };
        if (_runtime.PersistentCommand is null)
            return new AgentError { Code = HandlerProcess.LoadFailedCode, Message = $"runtime '{_init.Runtime}' has no persistent mode" };
        return null;
    }

    /// <summary>{"requestId":..,"event":..,"context":{..}} and a newline. requestId comes first, so even a handler
    /// with no JSON parser (a shell script) can pick it out.</summary>
    private ReadOnlyMemory<byte> RequestLine(ExecMessage exec, long deadlineMs)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("requestId", exec.RequestId);
            json.WritePropertyName("event");
            if (exec.Input.ValueKind == JsonValueKind.Undefined) json.WriteNullValue();
            else exec.Input.WriteTo(json);
            json.WriteStartObject("context");
            json.WriteString("requestId", exec.RequestId);
            json.WriteString("functionName", _init.FunctionName);
            json.WriteString("functionVersion", _init.Version.ToString());
            json.WriteNumber("memoryLimitMb", _init.MemoryMb);
            json.WriteNumber("deadlineMs", deadlineMs);
            if (exec.TraceId is null) json.WriteNull("traceId");
            else json.WriteString("traceId", exec.TraceId);
            if (exec.TraceParent is not null) json.WriteString("traceParent", exec.TraceParent);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenMemory;
    }

    private static RespMessage TimedOut(int timeoutMs, string? stderrTail) => new()
    {
        Status = "timeout", StderrTail = stderrTail,
        Error = new AgentError { Code = "Timeout", Message = $"handler exceeded its timeout of {timeoutMs} ms" },
    };

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        if (_current is { } current) await current.DisposeAsync().ConfigureAwait(false);
    }
}
