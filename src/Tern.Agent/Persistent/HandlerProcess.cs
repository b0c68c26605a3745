using System.Diagnostics;
using Tern.Agent.Protocol;
using Tern.Agent.Protocol.LineProtocol;
using Tern.Runtimes;

namespace Tern.Agent.Persistent;

/// <summary>One running persistent-mode handler process and its side of the line protocol. Its first stdout line
/// says whether it loaded; after that each stdout line answers one call (in any order, matched by requestId) and goes
/// to the <see cref="IHandlerListener"/>. stdout and stderr are read by blocking pumps on parked threads, so an
/// answer costs the agent one wake-up. When the process dies, closes stdout or breaks the protocol it is done for:
/// the listener hears <see cref="IHandlerListener.OnEnded"/> once, with why.</summary>
internal sealed class HandlerProcess : IDisposable
{
    public const string LoadFailedCode = "HandlerLoadFailed";
    public const string CrashedCode = LineProtocolFailures.CrashedCode;
    public const string ProtocolErrorCode = LineProtocolFailures.ProtocolErrorCode;
    public const string OutputTooLargeCode = LineProtocolFailures.OutputTooLargeCode;

    private const int MessageChars = 4096;
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan DrainGrace = TimeSpan.FromMilliseconds(200);

    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly Lock _writeLock = new();
    private readonly TaskCompletionSource<AgentError?> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile IHandlerListener? _listener;
    private int _maxLineBytes;
    private AgentError? _endError;
    private int _ending;
    private readonly StderrPump _stderrPump;
    private readonly Stream _stdout;
    private readonly Stream _stderr;
    // Handoff (docs/hot-path.md): after the ready line the stdout pump stops, and DetachPipes gives the pipes away.
    private volatile bool _handOffAfterReady;
    private volatile bool _stdoutReleased;
    private volatile bool _handedOff;

    private HandlerProcess(Process process, int maxLineBytes, IHandlerListener? listener, bool handOff)
    {
        _process = process;
        _handOffAfterReady = handOff;
        _maxLineBytes = maxLineBytes;
        _listener = listener;
        _stdin = process.StandardInput.BaseStream;
        _stdout = process.StandardOutput.BaseStream;
        _stderr = process.StandardError.BaseStream;
        _stderrPump = new StderrPump(Fd(_stderr), Stderr);
        AgentThreads.RunBlocking(() =>
        {
            _stderrPump.Run();
            _stderrClosed.TrySetResult();
        });
        AgentThreads.RunBlocking(() => PumpStdout(_stdout));
        _ = MonitorExitAsync();
    }

    private static int Fd(Stream pipe) => (int)((System.IO.Pipes.PipeStream)pipe).SafePipeHandle.DangerousGetHandle();

    /// <summary>Set before the ready line can arrive: once it has, stdout is no longer read here, so its pipe can be
    /// handed to the host (<see cref="DetachPipes"/>).</summary>
    public bool HandOffAfterReady
    {
        get => _handOffAfterReady;
        set => _handOffAfterReady = value;
    }

    /// <summary>After a ready line with <see cref="HandOffAfterReady"/>: stops reading stderr and returns the handler's
    /// stdin, stdout and stderr pipe ends, still open. The caller passes them on, then calls <see cref="ReleasePipes"/>.
    /// From then on this object only watches the process (its exit, a kill).</summary>
    public int[] DetachPipes()
    {
        if (!_stdoutReleased) throw new InvalidOperationException("the handler's stdout is still read here");
        _stderrPump.Stop();
        return [Fd(_stdin), Fd(_stdout), Fd(_stderr)];
    }

    /// <summary>Closes this process's copies of the pipes (handed to the host, or given up on).</summary>
    public void ReleasePipes()
    {
        _handedOff = true;
        foreach (var pipe in new[] { _stdin, _stdout, _stderr })
        {
            try { pipe.Dispose(); } catch (IOException) { }
        }
    }

    /// <summary>The handler's stderr (its logs, and the user's own prints, which the bootstraps send there).</summary>
    public RollingTail Stderr { get; } = new(LineProtocolFailures.StderrTailBytes);

    public bool IsAlive => Volatile.Read(ref _ending) == 0;

    /// <summary>Why it ended; null while it runs.</summary>
    public AgentError? EndError => Volatile.Read(ref _endError);

    /// <summary>The longest line accepted from the process (a zygote learns the host's limit only at Init).</summary>
    public int MaxLineBytes
    {
        get => Volatile.Read(ref _maxLineBytes);
        set => Volatile.Write(ref _maxLineBytes, value);
    }

    /// <summary>Starts the process with cwd /code and pipes on stdin/stdout/stderr. Throws if it cannot be started.</summary>
    public static HandlerProcess Start(string[] argv, Action<IDictionary<string, string?>> fillEnvironment, int maxLineBytes,
        IHandlerListener? listener, bool handOff = false)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            WorkingDirectory = RuntimeCatalog.CodeDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in argv.AsSpan(1)) psi.ArgumentList.Add(arg);
        fillEnvironment(psi.Environment);
        var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            throw;
        }
        return new HandlerProcess(process, maxLineBytes, listener, handOff);
    }

    /// <summary>Takes over a process already started with pipes on stdin, stdout and stderr (a zygote that was just told
    /// what to load).</summary>
    public static HandlerProcess Adopt(Process process, int maxLineBytes, IHandlerListener listener, bool handOff = false) =>
        new(process, maxLineBytes, listener, handOff);

    /// <summary>Who hears this process's answers and end (a zygote gets its listener when it is adopted).</summary>
    public void Attach(IHandlerListener listener)
    {
        _listener = listener;
        if (EndError is { } ended) listener.OnEnded(this, ended);
    }

    /// <summary>Completes when the process has said whether it loaded: null if ready, else the HandlerLoadFailed error.</summary>
    public Task<AgentError?> WaitReadyAsync(CancellationToken ct) => _ready.Task.WaitAsync(ct);

    /// <summary>Writes one line to the process's stdin, blocking while the pipe is full. Never throws: a process that
    /// stops reading is ended (if it has not died already).</summary>
    public void Send(ReadOnlySpan<byte> line)
    {
        try
        {
            lock (_writeLock)
            {
                _stdin.Write(line);
                _stdin.Flush();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // Usually the process has just died and the pumps will say how; if it lives on without reading, end it.
            _ = Task.Delay(ExitGrace).ContinueWith(_ => EndWith(new AgentError
            {
                Code = CrashedCode, Message = LineProtocolFailures.StoppedReadingStdin + Suffix(Stderr.Text(MessageChars)),
            }), TaskScheduler.Default);
        }
    }

    /// <summary>Stops a process nothing waits on (an unused zygote) without a cost to anyone's answer: one SIGKILL to it
    /// alone (a zygote has started nothing, so no walk of the process table as <see cref="Stop"/> does) and no wait; its
    /// pumps end with its pipes, and it is reaped and released once it has exited.</summary>
    public void Abandon()
    {
        if (!BeginEnd()) return;
        Volatile.Write(ref _endError, new AgentError { Code = CrashedCode, Message = "the handler process was stopped" });
        try { _process.Kill(); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
        _ = _process.WaitForExitAsync().ContinueWith(_ =>
        {
            try { _stdin.Dispose(); } catch (IOException) { }
            _stderrPump.Stop();
            _process.Dispose();
        }, TaskScheduler.Default);
    }

    /// <summary>Ends the process (if still running) with <paramref name="reason"/>.</summary>
    public void Stop(AgentError reason) => EndWith(reason);

    private void PumpStdout(Stream stdout)
    {
        var reader = new LineReader(stdout);
        try
        {
            while (IsAlive && !_stdoutReleased)
            {
                var line = reader.ReadLine(MaxLineBytes, out var oversized);
                if (oversized)
                {
                    OnOversizedLine(line);
                    return;
                }
                if (line.IsEmpty && reader.AtEnd) break;
                HandleLine(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        finally
        {
            // Released: the pipe lives on with the host; only the process's exit says it ended.
            if (!_stdoutReleased) _stdoutClosed.TrySetResult();
        }
    }

    private void HandleLine(ReadOnlySpan<byte> bytes)
    {
        if (!IsAlive || bytes.Trim(" \t\r"u8).IsEmpty) return;
        if (!AnswerLine.TryParse(bytes, out var answer, out var problem))
        {
            Violation(LineProtocolFailures.NotAProtocolMessage(problem!, bytes));
            return;
        }
        if (!_ready.Task.IsCompleted)
        {
            OnFirstLine(answer, bytes);
            return;
        }
        if (answer.RequestId is null)
        {
            if (answer.Ready is not null) return; // a repeated ready line is harmless
            Violation(LineProtocolFailures.WithoutRequestId(bytes));
            return;
        }
        _listener?.OnAnswer(this, answer);
    }

    private void OnFirstLine(AnswerLine answer, ReadOnlySpan<byte> bytes)
    {
        if (answer.Ready is not { } ready)
        {
            Violation($"the handler's first line must be {{\"ready\":true}}, not: {AnswerLine.Preview(bytes)}");
            return;
        }
        if (ready)
        {
            _stdoutReleased = _handOffAfterReady; // before the ready wait ends: the handoff may start at once
            _ready.TrySetResult(null);
            return;
        }
        var message = answer.Error.IsEmpty ? "the handler reported that it could not load" : AnswerLine.HandlerError(answer.Error).Message;
        EndWith(new AgentError { Code = LoadFailedCode, Message = message });
    }

    /// <summary>An answer line over the limit: its call (if its requestId leads the line, as it should) gets
    /// OutputTooLarge; the process is ended since the rest of its stdout can no longer be trusted.</summary>
    private void OnOversizedLine(ReadOnlySpan<byte> head)
    {
        var limit = MaxLineBytes;
        var loaded = _ready.Task.IsCompleted;
        // Marked as ending before its call is answered: the host's next call, sent as soon as that answer arrives, must
        // go to a fresh process, not to this one (where it would fail as a crash).
        if (!BeginEnd()) return;
        if (loaded && AnswerLine.RequestIdAtStart(head) is { } requestId)
            _listener?.OnOversizedAnswer(this, requestId, new AgentError { Code = OutputTooLargeCode, Message = LineProtocolFailures.OutputOver(limit) });
        FinishEnd(loaded
            ? new AgentError { Code = CrashedCode, Message = LineProtocolFailures.RestartedAfterLineOver(limit) }
            : new AgentError { Code = LoadFailedCode, Message = $"the handler wrote a first line over {limit} bytes instead of {{\"ready\":true}}" });
    }

    private void Violation(string message) => EndWith(_ready.Task.IsCompleted
        ? new AgentError { Code = ProtocolErrorCode, Message = message }
        : new AgentError { Code = LoadFailedCode, Message = message });

    /// <summary>Waits for the process to exit or close stdout, then reports how it ended.</summary>
    private async Task MonitorExitAsync()
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(exited, _stdoutClosed.Task).ConfigureAwait(false);
        if (_stdoutReleased)
        {
            // Handed off: the host reads the pipes (and says what was on stderr); only the exit is reported from here.
            await exited.ConfigureAwait(false);
            if (IsAlive) EndWith(new AgentError { Code = CrashedCode, Message = ExitDescription(_process.ExitCode) });
            return;
        }
        if (first == _stdoutClosed.Task)
            await Task.WhenAny(exited, Task.Delay(ExitGrace)).ConfigureAwait(false);
        else
            await Task.WhenAny(_stdoutClosed.Task, Task.Delay(DrainGrace)).ConfigureAwait(false); // its last lines first
        if (!IsAlive) return;
        await Task.WhenAny(_stderrClosed.Task, Task.Delay(DrainGrace)).ConfigureAwait(false);
        var why = exited.IsCompleted ? ExitDescription(_process.ExitCode) : "the handler process closed its stdout";
        var loading = !_ready.Task.IsCompleted;
        EndWith(new AgentError
        {
            Code = loading ? LoadFailedCode : CrashedCode,
            Message = why + (loading ? " before it was ready" : "") + Suffix(Stderr.Text(MessageChars)),
        });
    }

    private static string ExitDescription(int exitCode) => exitCode > 128
        ? $"the handler process was killed by signal {exitCode - 128}"
        : $"the handler process exited with code {exitCode}";

    private void EndWith(AgentError error)
    {
        if (BeginEnd()) FinishEnd(error);
    }

    /// <summary>Marks the process as ending (no new calls go to it); false if it already was.</summary>
    private bool BeginEnd() => Interlocked.Exchange(ref _ending, 1) == 0;

    private void FinishEnd(AgentError error)
    {
        Volatile.Write(ref _endError, error);
        Kill();
        _ready.TrySetResult(error.Code == LoadFailedCode ? error : new AgentError { Code = LoadFailedCode, Message = error.Message });
        _listener?.OnEnded(this, error);
    }

    private void Kill()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    private static string Suffix(string? tail) => string.IsNullOrWhiteSpace(tail) ? "" : ": " + LastChars(tail.TrimEnd(), MessageChars);

    private static string LastChars(string text, int max) => text.Length <= max ? text : text[^max..];

    public void Dispose()
    {
        EndWith(new AgentError { Code = CrashedCode, Message = "the handler process was stopped" });
        try { _stdin.Dispose(); } catch (IOException) { }
        if (!_stdoutReleased) _stdoutClosed.Task.Wait(ExitGrace);
        _stderrPump.Stop();
        if (_handedOff) _process.WaitForExit(ExitGrace); // nothing of ours reads its pipes: reap it here
        _process.Dispose();
    }
}
