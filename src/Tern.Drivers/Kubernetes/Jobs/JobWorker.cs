using System.Collections.Concurrent;
using k8s.Models;
using Tern.Agent.Protocol;
using Tern.Core.Code;
using Tern.Core.Invocations;
using Tern.Drivers.Transport;

namespace Tern.Drivers.Kubernetes.Jobs;

/// <summary>A worker of the per-call style. Nothing runs in the cluster while it is idle: the agent the pool talks to is
/// this object, in the daemon, answering Init (kept for the calls) and Ping itself and turning each Exec into one Job
/// (<see cref="CallJobs"/>), whose answer it writes back as the agent would. So pools, per-call timeouts, retries and
/// async calls work unchanged; a timed-out call gets this worker killed, which deletes the call's Job.</summary>
internal sealed class JobWorker : IWorker
{
    private readonly WorkerSpec _spec;
    private readonly string _image;
    private readonly string _configMap;
    private readonly List<V1KeyToPath> _items;
    private readonly CallJobs _jobs;
    private readonly InMemoryConnection _agentEnd;
    private readonly AgentChannel _channel;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<Task, byte> _calls = new();
    private InitMessage? _init;

    public JobWorker(WorkerSpec spec, string image, string configMap, List<V1KeyToPath> items, CallJobs jobs)
    {
        _spec = spec;
        _image = image;
        _configMap = configMap;
        _items = items;
        _jobs = jobs;
        var (host, agent) = InMemoryConnection.CreatePair();
        Stream = host;
        _agentEnd = agent;
        _channel = new AgentChannel(agent);
        _ = Task.Run(ServeAsync);
    }

    public string Id => _spec.WorkerId;
    public Stream Stream { get; }
    public Task Exited => _exited.Task;

    private async Task ServeAsync()
    {
        try
        {
            while (await _channel.ReadAsync(_stop.Token).ConfigureAwait(false) is { } message)
            {
                switch (message)
                {
                    case StopMessage:
                        return;
                    case InitMessage init:
                        _init = init;
                        _channel.MaxFrameBytes = init.MaxMessageBytes;
                        await AnswerAsync(new RespMessage { RequestId = "init" }).ConfigureAwait(false);
                        break;
                    case PingMessage ping:
                        await AnswerAsync(new RespMessage { RequestId = ping.RequestId }).ConfigureAwait(false);
                        break;
                    case ExecMessage exec when _init is null:
                        await AnswerAsync(Error(exec.RequestId, "NotInitialized", "Exec before Init")).ConfigureAwait(false);
                        break;
                    case ExecMessage exec:
                        var call = Task.Run(() => RunAsync(_init, exec));
                        _calls[call] = 0;
                        _ = call.ContinueWith(t => _calls.TryRemove(t, out _), TaskScheduler.Default);
                        break;
                    case WatchMessage watch:
                        await AnswerAsync(Error(watch.RequestId, "NotHandedOff", "a job worker has no handler to watch")).ConfigureAwait(false);
                        break;
                    case ClockMessage clock:
                        await AnswerAsync(Error(clock.RequestId, "NotSupported", "a job worker has no clock to set")).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or FrameTooLargeException)
        {
            // The host went away or the worker is being killed.
        }
        finally
        {
            await _agentEnd.DisposeAsync().ConfigureAwait(false);
            _exited.TrySetResult();
        }
    }

    private async Task RunAsync(InitMessage init, ExecMessage exec)
    {
        RespMessage answer;
        try
        {
            answer = await _jobs.RunAsync(_spec, _image, _configMap, _items, init, exec, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return; // killed: the host is not waiting any more
        }
        await AnswerAsync(answer).ConfigureAwait(false);
    }

    private async Task AnswerAsync(RespMessage answer)
    {
        await _writing.WaitAsync().ConfigureAwait(false);
        try
        {
            await _channel.WriteAsync(answer).ConfigureAwait(false);
        }
        catch (FrameTooLargeException e)
        {
            await _channel.WriteAsync(Error(answer.RequestId, InvocationError.OutputTooLarge, e.Message)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The host has gone: nobody is left to answer.
        }
        finally
        {
            _writing.Release();
        }
    }

    private static RespMessage Error(string requestId, string code, string message) =>
        new() { RequestId = requestId, Status = "error", Error = new AgentError { Code = code, Message = message } };

    /// <summary>A call's failure is in its answer (the pod's reason); the worker itself has nothing more to say.</summary>
    public ValueTask<WorkerDiagnostics> DiagnoseAsync() => ValueTask.FromResult(new WorkerDiagnostics(false, null, null));

    public ValueTask AssignAsync(CodeRef code, WorkerLimits limits, CancellationToken ct) =>
        throw new NotSupportedException("a job worker's code is fixed when it starts");

    /// <summary>Cancels the calls in flight and waits while they delete their Jobs.</summary>
    public async ValueTask KillAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync().ConfigureAwait(false);
        await Stream.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_calls.Keys).ConfigureAwait(false);
        await _exited.Task.ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => KillAsync();
}
