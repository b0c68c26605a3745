using Tern.Agent.Persistent;
using Tern.Agent.ProcessMode;
using Tern.Agent.Protocol;

namespace Tern.Agent;

/// <summary>Reads frames on the agent's main thread, with blocking reads, and acts on each: Init picks and starts the
/// mode's runner, Exec is dispatched to it (its answer is written by whichever thread finishes it), Ping is answered
/// at once, Stop or the end of the stream ends the agent.</summary>
internal sealed class AgentLoop(AgentChannel channel)
{
    private readonly AnswerWriter _answers = new(channel);
    private IModeRunner? _runner;
    private static readonly TimeSpan ZygoteDiscardDelay = TimeSpan.FromSeconds(1);

    public void Run()
    {
        try
        {
            Serve();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The host went away: nothing is left to answer.
        }
        finally
        {
            _runner?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private void Serve()
    {
        while (true)
        {
            AgentMessage? message;
            try
            {
                message = channel.Read();
            }
            catch (FrameTooLargeException e)
            {
                // The frame was skipped; we cannot know its RequestId, so the host times that call out.
                Console.Error.WriteLine($"tern-agent: {e.Message}");
                continue;
            }
            switch (message)
            {
                case null:
                case StopMessage:
                    return;
                case InitMessage init:
                    Initialize(init);
                    break;
                case PingMessage ping:
                    _answers.Send(new RespMessage { RequestId = ping.RequestId });
                    break;
                case ClockMessage clock: // on this (the main) thread: the only one allowed to set the clock
                    _answers.Send(GuestClock.Set(clock));
                    break;
                case WatchMessage watch when _runner is PersistentModeRunner { HandedOff: true } persistent:
                    persistent.Watch(watch, _answers);
                    break;
                case WatchMessage watch:
                    _answers.Send(new RespMessage
                    {
                        RequestId = watch.RequestId, Status = "error",
                        Error = new AgentError { Code = "NotHandedOff", Message = "this worker has no handed-off handler to watch" },
                    });
                    break;
                case ExecMessage exec when _runner is null:
                    _answers.Send(new RespMessage
                    {
                        RequestId = exec.RequestId, Status = "error",
                        Error = new AgentError { Code = "NotInitialized", Message = "Exec before Init" },
                    });
                    break;
                case ExecMessage exec:
                    _runner.Dispatch(exec, _answers);
                    break;
            }
        }
    }

    /// <summary>Picks the mode's runner and answers Init once it is ready: in persistent mode only after the handler
    /// process has loaded the handler, so a worker that answered Init is really warm. A load failure is the Init
    /// answer's error (HandlerLoadFailed); the agent stays up so the host can read it.</summary>
    private void Initialize(InitMessage init)
    {
        channel.MaxFrameBytes = init.MaxMessageBytes; // answers bigger than the host accepts become error answers
        _runner?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _runner = init.Mode == "persistent" ? new PersistentModeRunner(init) : new ProcessModeRunner(init);
        AgentError? error;
        try
        {
            error = _runner.StartAsync().GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            error = new AgentError { Code = "HandlerLoadFailed", Message = $"the agent could not prepare the worker: {e.Message}" };
        }
        if (error is not null) Console.Error.WriteLine($"tern-agent: {error.Code}: {error.Message}");
        _answers.Send(error is null
            ? new RespMessage { RequestId = "init", Handoff = _runner is PersistentModeRunner { HandedOff: true } ? true : null }
            : new RespMessage { RequestId = "init", Status = "error", Error = error });
        // Zygotes this worker did not adopt are stopped a moment after the answer: even a plain kill (the Python zygote's)
        // has the kernel tear a process down, which must not compete with the cold start's first call (process-mode wasm
        // no longer sweeps the worker before its answer, so nothing else kills them sooner). Idle, they cost nothing
        // meanwhile. Process-mode wasm keeps its wasm zygote for the first call.
        var keepWasm = init.Runtime == "wasm";
        _ = Task.Delay(ZygoteDiscardDelay).ContinueWith(_ =>
        {
            PythonZygote.Discard();
            if (!keepWasm) WasmZygote.Discard();
        }, TaskScheduler.Default);
    }
}
