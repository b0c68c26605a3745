using Tern.Agent.Protocol;

namespace Tern.Agent;

/// <summary>Reads frames and answers them. Exec calls run concurrently; replies are matched by RequestId.</summary>
internal sealed class AgentLoop(AgentChannel channel)
{
    private InitMessage? _init;
    private ProcessModeRunner? _runner;

    public async Task RunAsync()
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
                    _init = init;
                    _runner = new ProcessModeRunner(init);
                    await channel.WriteAsync(new RespMessage { RequestId = "init" });
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

    private async Task ExecuteAsync(ExecMessage exec)
    {
        RespMessage resp;
        if (_runner is null || _init is null)
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
