using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Tern.Agent.Protocol;
using Tern.Runtimes;

namespace Tern.Agent;

/// <summary>One running persistent-mode handler process and its side of the line protocol: the first stdout line
/// says whether it loaded; then one request line per call goes to its stdin and one answer line per call comes back
/// on stdout, matched by requestId (in any order). When the process dies, closes stdout or breaks the protocol,
/// every call still waiting on it gets an error answer and the process is done for (the runner starts another).</summary>
internal sealed class HandlerProcess : IAsyncDisposable
{
    public const string LoadFailedCode = "HandlerLoadFailed";
    public const string CrashedCode = "HandlerCrashed";
    public const string ProtocolErrorCode = "HandlerProtocolError";
    public const string OutputTooLargeCode = "OutputTooLarge";
    public const string HandlerFailedCode = "HandlerFailed";

    private const int StderrTailBytes = 64 * 1024;
    private const int MessageChars = 4096;
    private const int PreviewChars = 200;
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan DrainGrace = TimeSpan.FromMilliseconds(200);

    private readonly Process _process;
    private readonly Stream _stdin;
    private int _maxLineBytes;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<RespMessage>> _pending = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<AgentError?> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private readonly Task _monitor;
    private AgentError? _endError;
    private int _ending;

    private HandlerProcess(Process process, int maxLineBytes)
    {
        _process = process;
        _maxLineBytes = maxLineBytes;
        _stdin = process.StandardInput.BaseStream;
        _stderrPump = Stderr.CopyFromAsync(process.StandardError.BaseStream);
        _stdoutPump = Task.Run(() => PumpStdoutAsync(process.StandardOutput.BaseStream));
        _monitor = Task.Run(MonitorAsync);
    }

    /// <summary>The handler's stderr (its logs, and the user's own prints, which the bootstraps send there).</summary>
    public RollingTail Stderr { get; } = new(StderrTailBytes);

    public bool IsAlive => Volatile.Read(ref _ending) == 0;

    /// <summary>Starts the process with cwd /code and pipes on stdin/stdout/stderr. Throws if it cannot be started.</summary>
    public static HandlerProcess Start(string[] argv, Action<IDictionary<string, string?>> fillEnvironment, int maxLineBytes)
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
        return new HandlerProcess(process, maxLineBytes);
    }

    /// <summary>The longest line accepted from the process (a zygote learns the host's limit only at Init).</summary>
    public int MaxLineBytes
    {
        get => _maxLineBytes;
        set => _maxLineBytes = value;
    }

    /// <summary>Writes one line to the process's stdin outside any call (a zygote's load instruction).</summary>
    public Task SendLineAsync(ReadOnlyMemory<byte> line) => WriteLineAsync(line);

    /// <summary>Completes when the process has said whether it loaded: null if ready, else the HandlerLoadFailed error.</summary>
    public Task<AgentError?> WaitReadyAsync(CancellationToken ct) => _ready.Task.WaitAsync(ct);

    /// <summary>Sends one request line and waits for its answer. Cancelling (the call's timeout) abandons the wait;
    /// the caller decides what happens to the process.</summary>
    public async Task<RespMessage> CallAsync(ReadOnlyMemory<byte> requestLine, string requestId, CancellationToken ct)
    {
        var answer = new TaskCompletionSource<RespMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(requestId, answer))
            return ErrorResp(requestId, new AgentError { Code = ProtocolErrorCode, Message = $"request id {requestId} is already in flight" });
        // EndWith publishes _endError before it sweeps _pending: a call added after the sweep sees it here.
        if (Volatile.Read(ref _endError) is { } ended && _pending.TryRemove(requestId, out _))
            return ErrorResp(requestId, ended);
        _ = WriteLineAsync(requestLine);
        try
        {
            return await answer.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _pending.TryRemove(requestId, out _);
            throw;
        }
    }

    /// <summary>Ends the process (if still running) and fails every waiting call with <paramref name="reason"/>.</summary>
    public void Stop(AgentError reason) => EndWith(reason);

    private async Task WriteLineAsync(ReadOnlyMemory<byte> line)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _stdin.WriteAsync(line).ConfigureAwait(false);
            await _stdin.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // Usually the process has just died and the monitor will say how; if it lives on without reading, end it.
            _ = Task.Delay(ExitGrace).ContinueWith(_ => EndWith(new AgentError
            {
                Code = CrashedCode, Message = "the handler process stopped reading its stdin" + Suffix(Stderr.Text(MessageChars)),
            }), TaskScheduler.Default);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task PumpStdoutAsync(Stream stdout)
    {
        var chunk = new byte[64 * 1024];
        var line = new MemoryStream();
        try
        {
            int n;
            while ((n = await stdout.ReadAsync(chunk).ConfigureAwait(false)) > 0)
            {
                var start = 0;
                while (start < n)
                {
                    var newline = Array.IndexOf(chunk, (byte)'\n', start, n - start);
                    var end = newline < 0 ? n : newline;
                    if (line.Length + (end - start) > _maxLineBytes)
                    {
                        line.Write(chunk, start, Math.Min(end - start, PreviewChars * 8));
                        OnOversizedLine(line.GetBuffer().AsSpan(0, (int)Math.Min(line.Length, PreviewChars * 8)));
                        return;
                    }
                    line.Write(chunk, start, end - start);
                    if (newline < 0) break;
                    HandleLine(new ReadOnlyMemory<byte>(line.GetBuffer(), 0, (int)line.Length));
                    if (line.Capacity > 1024 * 1024) line = new MemoryStream();
                    else line.SetLength(0);
                    start = newline + 1;
                }
                if (!IsAlive) return;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
    }

    private void HandleLine(ReadOnlyMemory<byte> bytes)
    {
        if (!IsAlive) return;
        if (bytes.Span.Trim(" \t\r"u8).IsEmpty) return;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException)
        {
            Violation($"the handler wrote a line to stdout that is not a protocol message (print to stderr instead): {Preview(bytes.Span)}");
            return;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                Violation($"the handler wrote a line to stdout that is not a protocol message: {Preview(bytes.Span)}");
                return;
            }
            if (!_ready.Task.IsCompleted)
            {
                OnFirstLine(root, bytes.Span);
                return;
            }
            if (!root.TryGetProperty("requestId", out var id) || id.ValueKind != JsonValueKind.String)
            {
                if (root.TryGetProperty("ready", out _)) return; // a repeated ready line is harmless
                Violation($"the handler wrote a line without a requestId: {Preview(bytes.Span)}");
                return;
            }
            var requestId = id.GetString()!;
            // Unknown ids are answers to calls that were given up (timed out) or never sent: ignore them.
            if (!_pending.TryRemove(requestId, out var answer)) return;
            var resp = new RespMessage { RequestId = requestId };
            if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
            {
                resp.Status = "error";
                resp.Error = new AgentError { Code = HandlerFailedCode, Message = Describe(error) };
            }
            else if (root.TryGetProperty("output", out var output) && output.ValueKind != JsonValueKind.Null)
            {
                resp.Output = output.Clone();
            }
            answer.TrySetResult(resp);
        }
    }

    private void OnFirstLine(JsonElement root, ReadOnlySpan<byte> bytes)
    {
        if (!root.TryGetProperty("ready", out var ready))
        {
            Violation($"the handler's first line must be {{\"ready\":true}}, not: {Preview(bytes)}");
            return;
        }
        if (ready.ValueKind == JsonValueKind.True)
        {
            _ready.TrySetResult(null);
            return;
        }
        var message = root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null
            ? Describe(error) : "the handler reported that it could not load";
        EndWith(new AgentError { Code = LoadFailedCode, Message = message });
    }

    /// <summary>An answer line over maxMessageBytes: its call (if its requestId leads the line, as it should) gets
    /// OutputTooLarge; the process is ended since the rest of its stdout can no longer be trusted.</summary>
    private void OnOversizedLine(ReadOnlySpan<byte> head)
    {
        var text = Encoding.UTF8.GetString(head);
        var tooLarge = new AgentError { Code = OutputTooLargeCode, Message = $"handler output exceeded {_maxLineBytes} bytes" };
        if (RequestIdAtStart(text) is { } requestId && _pending.TryRemove(requestId, out var answer))
            answer.TrySetResult(ErrorResp(requestId, tooLarge));
        EndWith(_ready.Task.IsCompleted
            ? new AgentError { Code = CrashedCode, Message = $"the handler process was restarted after writing a line over {_maxLineBytes} bytes" }
            : new AgentError { Code = LoadFailedCode, Message = $"the handler wrote a first line over {_maxLineBytes} bytes instead of {{\"ready\":true}}" });
    }

    /// <summary>The value of a leading "requestId" string property, found without parsing the (truncated) line.</summary>
    private static string? RequestIdAtStart(string head)
    {
        const string key = "\"requestId\"";
        var at = head.IndexOf(key, StringComparison.Ordinal);
        if (at < 0) return null;
        var colon = head.IndexOf(':', at + key.Length);
        if (colon < 0) return null;
        var open = head.IndexOf('"', colon + 1);
        if (open < 0 || head.AsSpan(colon + 1, open - colon - 1).Trim().Length != 0) return null;
        var close = head.IndexOf('"', open + 1);
        return close < 0 ? null : head[(open + 1)..close];
    }

    private void Violation(string message) => EndWith(_ready.Task.IsCompleted
        ? new AgentError { Code = ProtocolErrorCode, Message = message }
        : new AgentError { Code = LoadFailedCode, Message = message });

    /// <summary>Waits for the process to exit or close stdout, then reports it to every call still waiting.</summary>
    private async Task MonitorAsync()
    {
        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(exited, _stdoutPump).ConfigureAwait(false) == _stdoutPump)
            await Task.WhenAny(exited, Task.Delay(ExitGrace)).ConfigureAwait(false);
        else
            await Task.WhenAny(_stdoutPump, Task.Delay(DrainGrace)).ConfigureAwait(false); // its last lines first
        if (!IsAlive) return;
        await Task.WhenAny(_stderrPump, Task.Delay(DrainGrace)).ConfigureAwait(false);

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
        if (Interlocked.Exchange(ref _ending, 1) == 1) return;
        Volatile.Write(ref _endError, error);
        Kill();
        _ready.TrySetResult(error.Code == LoadFailedCode ? error : new AgentError { Code = LoadFailedCode, Message = error.Message });
        foreach (var requestId in _pending.Keys)
            if (_pending.TryRemove(requestId, out var answer)) answer.TrySetResult(ErrorResp(requestId, error));
    }

    private void Kill()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    /// <summary>"Type: message" then the stack, from a protocol error object {type, message, stack}.</summary>
    private static string Describe(JsonElement error)
    {
        if (error.ValueKind == JsonValueKind.String) return Truncate(error.GetString() ?? "");
        if (error.ValueKind != JsonValueKind.Object) return Truncate(error.GetRawText());
        var type = StringProperty(error, "type");
        var message = StringProperty(error, "message");
        var stack = StringProperty(error, "stack");
        var text = string.IsNullOrEmpty(type) ? message ?? "" : string.IsNullOrEmpty(message) ? type : $"{type}: {message}";
        if (!string.IsNullOrWhiteSpace(stack)) text += "\n" + stack.TrimEnd();
        return Truncate(text.Length == 0 ? "the handler reported an error" : text);
    }

    private static string? StringProperty(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => value.GetRawText(),
        } : null;

    private static string Truncate(string text) => text.Length <= MessageChars ? text : text[..MessageChars] + "...";

    private static string Preview(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes.Length > PreviewChars * 4 ? bytes[..(PreviewChars * 4)] : bytes).Trim();
        return text.Length <= PreviewChars ? text : text[..PreviewChars] + "...";
    }

    private static string Suffix(string? tail) => string.IsNullOrWhiteSpace(tail) ? "" : ": " + LastChars(tail.TrimEnd(), MessageChars);

    private static string LastChars(string text, int max) => text.Length <= max ? text : text[^max..];

    private static RespMessage ErrorResp(string requestId, AgentError error) => new()
    {
        RequestId = requestId, Status = "error", Error = new AgentError { Code = error.Code, Message = error.Message },
    };

    public async ValueTask DisposeAsync()
    {
        EndWith(new AgentError { Code = CrashedCode, Message = "the handler process was stopped" });
        try { _stdin.Dispose(); } catch (IOException) { }
        await Task.WhenAny(Task.WhenAll(_monitor, _stdoutPump, _stderrPump), Task.Delay(ExitGrace)).ConfigureAwait(false);
        _process.Dispose();
    }
}
