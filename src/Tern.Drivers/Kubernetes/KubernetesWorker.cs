using Microsoft.Extensions.Logging;
using Tern.Core.Code;

namespace Tern.Drivers.Kubernetes;

/// <summary>A worker on one pod: the TCP stream to its agent, and the pod watch saying when the pod has gone (deleted,
/// failed, or its container restarted). Killing it removes exactly that pod and one replica.</summary>
internal sealed partial class KubernetesWorker : IWorker
{
    private static readonly TimeSpan EndReportWait = TimeSpan.FromSeconds(1);
    private readonly WorkerDeployment _deployment;
    private readonly ILogger _logger;
    private readonly Task<string> _ended;
    private readonly Lazy<Task> _teardown;

    public KubernetesWorker(string id, string pod, Stream stream, WorkerDeployment deployment, ILogger logger)
    {
        Id = id;
        Pod = pod;
        Stream = stream;
        _deployment = deployment;
        _logger = logger;
        _ended = deployment.Pods.Ended(pod);
        Exited = _ended;
        _teardown = new(TeardownAsync);
    }

    public string Id { get; }
    public string Pod { get; }
    public Stream Stream { get; }
    public Task Exited { get; }

    /// <summary>From the watch's last view of the pod: the container's last termination (OOMKilled, exit code) and, once
    /// the pod has gone, why (as the worker's own last words, so a failed call names the pod).</summary>
    public async ValueTask<WorkerDiagnostics> DiagnoseAsync()
    {
        // The agent's connection may drop a moment before the watch reports why (the pod's deletion): wait a little for it.
        await _ended.WaitAsync(EndReportWait).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        var status = _deployment.Pods.Current(Pod)?.Status?.ContainerStatuses?.FirstOrDefault();
        var terminated = status?.State?.Terminated ?? status?.LastState?.Terminated;
        var reason = _ended.IsCompletedSuccessfully ? _ended.Result : null;
        return new WorkerDiagnostics(terminated?.Reason == "OOMKilled", terminated?.ExitCode, reason);
    }

    public ValueTask AssignAsync(CodeRef code, WorkerLimits limits, CancellationToken ct) =>
        throw new NotSupportedException("a kubernetes worker's code is fixed by its Deployment");

    public ValueTask KillAsync() => new(_teardown.Value);

    public ValueTask DisposeAsync() => KillAsync();

    private async Task TeardownAsync()
    {
        await Stream.DisposeAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _deployment.RemovePodAsync(Pod, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (KubernetesReachability.IsApiFailure(e))
        {
            LogRemoveFailed(Pod, e.Message);
        }
        finally
        {
            _deployment.Pods.Release(Pod);
        }
    }

    [LoggerMessage(EventId = 144, Level = LogLevel.Warning, Message = "could not remove worker pod {Pod}: {Reason}")]
    private partial void LogRemoveFailed(string pod, string reason);
}
