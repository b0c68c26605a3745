using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Tern.Agent.Persistent;
using Tern.Agent.Protocol;
using Tern.Json;
using Tern.Runtimes;

namespace Tern.Agent.ProcessMode;

/// <summary>Process mode: a fresh handler process per call. The event goes in a file named by argv[1],
/// the result comes back on stdout; exit 0 is success, anything else an error with the stderr tail.
/// Workers are reused, so when a call ends and no other is running, every process left in the worker is killed:
/// nothing a handler started outlives its call.</summary>
internal sealed class ProcessModeRunner(InitMessage init) : IModeRunner
{
    private const string CodeDir = "/code";
    private const int MaxOutputBytes = 6 * 1024 * 1024;
    private const int TailBytes = 64 * 1024;
    private const int ErrorMessageChars = 4096;
    // Normally the pipes reach end-of-file as the handler exits; this only bounds the wait when a detached child
    // still holds them. Generous, because on a loaded machine draining the last output can take a while.
    private static readonly TimeSpan PipeDrainGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan TimedOutDrainGrace = TimeSpan.FromMilliseconds(100);
    // A host that stops its module at the deadline answers at once; this only bounds a host that is stuck. Room for a
    // loaded machine: at 250 ms the kill sometimes came before a busy host's own timeout report.
    private const int SelfTimeoutGraceMs = 1000;
    private static readonly string EventDir = Path.Combine(Path.GetTempPath(), ".tern-events");

    /// <summary>Guards <see cref="_inFlight"/>; held while reaping so no new handler starts in the middle of it.</summary>
    private readonly Lock _gate = new();
    private int _inFlight;

    public Task<AgentError?> StartAsync() => Task.FromResult<AgentError?>(null);

    /// <summary>Process mode is the cold path (a process start per call): it runs on the thread pool.</summary>
    public void Dispatch(ExecMessage exec, AnswerWriter answers) =>
        _ = Task.Run(async () => answers.Send(await RunAsync(exec).ConfigureAwait(false)));

    public async Task<RespMessage> RunAsync(ExecMessage exec)
    {
        var started = Stopwatch.GetTimestamp();
        lock (_gate) _inFlight++;
        RespMessage resp;
        var sweep = true;
        try
        {
            (resp, sweep) = await RunCoreAsync(exec);
        }
        finally
        {
            // Before the answer goes out, so a caller who sees it also sees a clean worker (not needed after a host that
            // reported its end: it can have started nothing, see EndOfCallWait).
            lock (_gate)
            {
                if (--_inFlight == 0 && sweep) OrphanReaper.KillStrays();
            }
        }
        resp.RequestId = exec.RequestId;
        resp.DurationMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return resp;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The answer, and whether the worker needs its sweep for strays (false when the host reported its end).</summary>
    private async Task<(RespMessage Resp, bool Sweep)> RunCoreAsync(ExecMessage exec)
    {
        if (!RuntimeCatalog.TryGet(init.Runtime, out var runtime))
            return (Error("UnknownRuntime", $"runtime '{init.Runtime}' is not known to this agent"), true);
        var handlerPath = Path.Combine(CodeDir, init.Handler);
        if (!File.Exists(handlerPath))
            return (Error("HandlerNotFound", $"handler '{init.Handler}' is not in the code package"), true);

        Directory.CreateDirectory(EventDir);
        var eventPath = Path.Combine(EventDir, $"{Guid.NewGuid():N}.json");
        await File.WriteAllBytesAsync(eventPath, exec.Input.Utf8.IsEmpty ? "null"u8.ToArray() : exec.Input.Utf8.ToArray());
        try
        {
            return await RunHandlerAsync(runtime, handlerPath, eventPath, exec);
        }
        finally
        {
            File.Delete(eventPath);
        }
    }

    private async Task<(RespMessage Resp, bool Sweep)> RunHandlerAsync(RuntimeDefinition runtime, string handlerPath, string eventPath, ExecMessage exec)
    {
        var argv = runtime.ProcessCommand(handlerPath, eventPath, init.MemoryMb);
        var endOfCall = runtime.ReportsEndOfCall ? new EndOfCallWait() : null;
        if (endOfCall is not null) argv = endOfCall.Argv(argv);
        var env = new Dictionary<string, string?>();
        HandlerEnvironment.Fill(env, init, runtime, exec);
        var timeoutMs = exec.TimeoutMs > 0 ? exec.TimeoutMs : init.TimeoutMs;
        // The deadline, for handlers (and hosts such as the wasm one) that stop themselves in time.
        if (timeoutMs > 0) env["TERN_DEADLINE_MS"] = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + timeoutMs).ToString();

        // A spare worker's first wasm call is run by the host already waiting there (Persistent/WasmZygote.cs).
        string? startError = null;
        var process = (init.Runtime == "wasm" ? WasmZygote.TakeForCall(argv, env) : null) ?? Start(argv, env, out startError);
        if (process is null) return (Error("HandlerFailed", $"cannot start handler: {startError}"), true);
        int? reportedExit = null;
        try
        {
            (var resp, reportedExit) = await WaitAndAnswerAsync(runtime, process, endOfCall, timeoutMs);
            return (resp, reportedExit is null);
        }
        finally
        {
            // A host that reported its end is still exiting: reaped after the answer, off its path.
            if (reportedExit is null) process.Dispose();
            else _ = EndOfCallWait.ReapAsync(process);
        }
    }

    /// <summary>The answer, once the handler exited (or its host reported the end of the call: that exit code too).</summary>
    private async Task<(RespMessage Resp, int? ReportedExit)> WaitAndAnswerAsync(RuntimeDefinition runtime, Process process, EndOfCallWait? endOfCall,
        int timeoutMs)
    {
        var stdout = new BoundedCapture(MaxOutputBytes, keepTail: false);
        var stderr = new BoundedCapture(TailBytes, keepTail: true);
        var stdoutTask = stdout.CopyFromAsync(process.StandardOutput.BaseStream);
        var stderrTask = stderr.CopyFromAsync(process.StandardError.BaseStream);

        // A runtime that stops its handler at the deadline itself (TimeoutExitCode) gets a moment to do so and say so;
        // the kill stays as the backstop.
        var killAfterMs = timeoutMs + (runtime.TimeoutExitCode is null ? 0 : SelfTimeoutGraceMs);
        using var timeout = new CancellationTokenSource(timeoutMs > 0 ? killAfterMs : Timeout.Infinite);
        var timedOut = false;
        int? reportedExit = null;
        try
        {
            if (endOfCall is not null)
                reportedExit = await endOfCall.WaitAsync(process, Task.WhenAll(stdoutTask, stderrTask), stderr, timeout.Token);
            if (reportedExit is null) await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            KillForTimeout(process);
            await process.WaitForExitAsync();
        }
        // The call ends when the handler exits, not when every process that inherited its pipes closes them:
        // a detached child would otherwise hold the call open. Drain briefly, then take what arrived. After a timeout
        // the answer is already late: no more than a moment for the last output.
        if (reportedExit is null)
            await Task.WhenAll(stdoutTask, stderrTask).WaitAsync(timedOut ? TimedOutDrainGrace : PipeDrainGrace).ContinueWith(_ => { });
        stdout.Freeze();
        stderr.Freeze();
        if (reportedExit is null) endOfCall?.Strip(stderr);

        var exitCode = reportedExit ?? process.ExitCode;
        var resp = new RespMessage { StderrTail = stderr.ToText(), StdoutTail = stdout.TailText(TailBytes) };
        if (runtime.TimeoutExitCode is { } timeoutExit && exitCode == timeoutExit) timedOut = true;
        if (timedOut)
        {
            resp.Status = "timeout";
            resp.Error = new AgentError { Code = "Timeout", Message = $"handler exceeded its timeout of {timeoutMs} ms" };
        }
        else if (stdout.Overflowed)
        {
            resp.Status = "error";
            resp.Error = new AgentError { Code = "OutputTooLarge", Message = $"handler output exceeded {MaxOutputBytes} bytes" };
        }
        else if (exitCode != 0)
        {
            resp.Status = "error";
            resp.Error = new AgentError { Code = "HandlerFailed", Message = FailureMessage(exitCode, resp.StderrTail) };
        }
        else
        {
            resp.Output = ParseOutput(stdout.ToBytes());
        }
        return (resp, reportedExit);
    }

    private static Process? Start(string[] argv, Dictionary<string, string?> env, out string? error)
    {
        error = null;
        var psi = new ProcessStartInfo(argv[0])
        {
            WorkingDirectory = CodeDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in argv.AsSpan(1)) psi.ArgumentList.Add(arg);
        psi.Environment.Clear();
        foreach (var (key, value) in env) psi.Environment[key] = value;
        var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            error = e.Message;
            return null;
        }
        process.StandardInput.Close();
        return process;
    }

    /// <summary>Ends a handler that ran past its timeout. Walking its process tree races a fork bomb (children appear
    /// faster than they are found), so when it is the only call in the worker every other process in the sandbox is
    /// killed in a loop until none is left; otherwise its tree is killed, and orphans go when the worker's last call ends.</summary>
    private void KillForTimeout(Process process)
    {
        bool alone;
        lock (_gate) alone = _inFlight == 1;
        if (alone && OrphanReaper.Enabled)
        {
            OrphanReaper.KillStrays();
            return;
        }
        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    /// <summary>JSON stays JSON (as the bytes the handler wrote); anything else comes back as a JSON string; nothing
    /// at all is null.</summary>
    internal static RawJson? ParseOutput(ReadOnlySpan<byte> bytes)
    {
        var trimmed = bytes.TrimEnd("\r\n"u8);
        if (trimmed.IsEmpty) return null;
        if (RawJson.TryCreate(trimmed.ToArray(), out var json, out _)) return json;
        var text = Encoding.UTF8.GetString(trimmed);
        return RawJson.FromTrusted(JsonSerializer.SerializeToUtf8Bytes(text, AgentStringJsonContext.Default.String));
    }

    private static string FailureMessage(int exitCode, string? stderrTail)
    {
        var why = exitCode > 128 ? $"handler was killed by signal {exitCode - 128}" : $"handler exited with code {exitCode}";
        if (string.IsNullOrWhiteSpace(stderrTail)) return why;
        var tail = stderrTail.TrimEnd();
        if (tail.Length > ErrorMessageChars) tail = tail[^ErrorMessageChars..];
        return $"{why}: {tail}";
    }

    private static RespMessage Error(string code, string message) =>
        new() { Status = "error", Error = new AgentError { Code = code, Message = message } };
}
