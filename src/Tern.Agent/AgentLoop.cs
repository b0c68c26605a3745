using Tern.Agent.Protocol;

namespace Tern.Agent;

/// <summary>Reads frames and answers them. Exec calls run concurrently; replies are matched by RequestId.</summary>
internal sealed class AgentLoop(AgentChannel channel)
{
    private IModeRunner? _runner;

    public async Task RunAsync()
    {
        try
        {
            await ServeAsync();
        }
        finally
        {
            if (_runner is not null) await _runner.DisposeAsync();
        }
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            AgentMessage? message;
            try
            {
                message = await channel.ReadAsync();
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
                    await InitializeAsync(init);
                    break;
                case PingMessage ping:
                    await channel.WriteAsync(new RespMessage { RequestId = ping.RequestId });
                    break;
                case ExecMessage exec:
                    _ = Task.Run(() => ExecuteAsync(exec));
                    break;
            }
        }
    }

    /// <summary>Picks the mode's runner and answers Init once it is ready: in persistent mode only after the handler
    /// process has loaded the handler, so a worker that answered Init is really warm. A load failure is the Init
    /// answer's error (HandlerLoadFailed); the agent stays up so the host can read it.</summary>
    private async Task InitializeAsync(InitMessage init)
    {
        channel.MaxFrameBytes = init.MaxMessageBytes; // answers bigger than the host accepts become error answers
        if (_runner is not null) await _runner.DisposeAsync();
        _runner = init.Mode == "persistent" ? new PersistentModeRunner(init) : new ProcessModeRunner(init);
        AgentError? error;
        try
        {
            error = await _runner.StartAsync();
        }
        catch (Exception e)
        {
            error = new AgentError { Code = "HandlerLoadFailed", Message = $"the agent could not prepare the worker: {e.Message}" };
        }
        await PythonZygote.DiscardAsync(); // adopted by now if this worker runs persistent Python
        if (error is not null) Console.Error.WriteLine($"tern-agent: {error.Code}: {error.Message}");
        await channel.WriteAsync(error is null
            ? new RespMessage { RequestId = "init" }
            : new RespMessage { RequestId = "init", Status = "error", Error = error });
    }

    private async Task ExecuteAsync(ExecMessage exec)
    {
        RespMessage resp;
        if (_runner is null)
            resp = new RespMessage
            {
                RequestId = exec.RequestId, Status = "error",
                Error = new AgentError { Code = "NotInitialized", Message = "Exec before Init" },
            };
        else
            resp = await _runner.RunAsync(exec);
        try
        {
            await channel.WriteAsync(resp);
            return;
        }
        catch (FrameTooLargeException) when (resp.StdoutTail is not null || resp.StderrTail is not null)
        {
            // The output may fit without the diagnostic tails: they must not turn a good answer into an error.
            resp.StdoutTail = resp.StderrTail = null;
        }
        try
        {
            await channel.WriteAsync(resp);
        }
        catch (FrameTooLargeException e)
        {
            await channel.WriteAsync(new RespMessage
            {
                RequestId = exec.RequestId, Status = "error", DurationMs = resp.DurationMs,
                Error = new AgentError { Code = "OutputTooLarge", Message = e.Message },
            });
        }
    }
}
