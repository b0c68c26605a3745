using Tern.Agent.Protocol;

namespace Tern.Testing.FakeDriver;

/// <summary>The guest side of a fake worker: reads frames with the real <see cref="AgentChannel"/> (so the real codec)
/// and answers Init, Exec and Ping the way its driver is scripted to. Execs run concurrently, as instanceConcurrency
/// allows on a real agent. The loop's end is the worker's exit.</summary>
internal sealed class FakeAgent(FakeWorker worker, Stream connection)
{
    private FakeDriver Driver => worker.Driver;

    public async Task RunAsync(CancellationToken kill)
    {
        var channel = new AgentChannel(connection);
        try
        {
            while (await channel.ReadAsync(kill).ConfigureAwait(false) is { } message)
            {
                switch (message)
                {
                    case InitMessage init:
                        worker.Init = init;
                        await channel.WriteAsync(Reply("init", Driver.AnswerInit(init)), kill).ConfigureAwait(false);
                        break;
                    case ExecMessage exec:
                        _ = ExecAsync(channel, exec, kill); // not awaited: the next frame may be another call
                        break;
                    case PingMessage ping:
                        worker.CountPing();
                        if (!worker.HangPings) await channel.WriteAsync(new RespMessage { RequestId = ping.RequestId }, kill).ConfigureAwait(false);
                        break;
                    case StopMessage:
                        return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Crashed or killed, or the host closed its end: either way this worker is gone.
        }
        finally
        {
            await channel.DisposeAsync().ConfigureAwait(false); // the host's end now reads end-of-stream
        }
    }

    private async Task ExecAsync(AgentChannel channel, ExecMessage exec, CancellationToken kill)
    {
        try
        {
            // The latency's timer is armed before the exec is counted: a test that saw the count may advance the clock.
            var latency = Driver.ExecLatency > TimeSpan.Zero ? Task.Delay(Driver.ExecLatency, Driver.Time, kill) : Task.CompletedTask;
            worker.CountExec(exec);
            await latency.ConfigureAwait(false);
            if (Driver.AnswerExec(exec) is not { } answer)
            {
                worker.Crash();
                return;
            }
            await channel.WriteAsync(Reply(exec.RequestId, answer), kill).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The worker died while this call ran; the host learns it from the closed connection.
        }
    }

    /// <summary>A copy of a scripted answer addressed to one request (a script may hand out the same instance twice).</summary>
    private static RespMessage Reply(string requestId, RespMessage answer) => new()
    {
        RequestId = requestId, Status = answer.Status, Output = answer.Output, Error = answer.Error, DurationMs = answer.DurationMs,
        StdoutTail = answer.StdoutTail, StderrTail = answer.StderrTail,
    };
}
