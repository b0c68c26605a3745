using System.Net;
using k8s;
using k8s.Autorest;

namespace Tern.Drivers.Kubernetes;

/// <summary>Whether the API server answers the daemon, as readiness and registration need to know cheaply: a small
/// request (list one pod of the namespace, which the driver's role allows) at most every <see cref="ProbeInterval"/>,
/// the answer cached in between. Only the first question waits for an answer (briefly); later ones get the last one
/// while a fresh probe runs, so an unreachable cluster costs one request per interval, not one per readiness probe.</summary>
internal sealed class KubernetesReachability(KubernetesCluster cluster)
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstAnswerWait = TimeSpan.FromSeconds(3);

    private readonly Lock _gate = new();
    private Task? _probe;
    private DateTime _probedAt;
    private volatile string? _problem;

    public string? Problem()
    {
        if (cluster.ConfigurationProblem is { } configuration) return configuration;
        Task probe;
        var first = false;
        lock (_gate)
        {
            if (_probe is null || (_probe.IsCompleted && DateTime.UtcNow - _probedAt > ProbeInterval))
            {
                first = _probe is null;
                _probedAt = DateTime.UtcNow;
                _probe = Task.Run(ProbeAsync);
            }
            probe = _probe;
        }
        if (first) probe.Wait(FirstAnswerWait);
        return _problem;
    }

    /// <summary>The driver's own calls tell the same story: a failure shows in readiness at once.</summary>
    public void Observe(Exception? failure) => _problem = failure is null ? null : Describe(failure);

    private async Task ProbeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(ProbeTimeout);
            await cluster.Client.CoreV1.ListNamespacedPodAsync(cluster.Namespace, limit: 1, cancellationToken: timeout.Token)
                .ConfigureAwait(false);
            _problem = null;
        }
        catch (Exception e) // a probe reports whatever went wrong; nothing may escape into readiness
        {
            _problem = Describe(e);
        }
    }

    public static bool IsApiFailure(Exception e) =>
        e is HttpRequestException or HttpOperationException or OperationCanceledException or IOException or WorkerStartException;

    public string Describe(Exception e) => e switch
    {
        HttpOperationException { Response.StatusCode: HttpStatusCode.Unauthorized } =>
            $"the Kubernetes API at {cluster.Server} refused the daemon's credentials (401)",
        HttpOperationException { Response.StatusCode: HttpStatusCode.Forbidden } =>
            $"the daemon may not use pods in namespace {cluster.Namespace} (403): apply deploy/kubernetes (its Role) or check kubernetes.namespace",
        HttpOperationException http => $"the Kubernetes API at {cluster.Server} answered {(int)http.Response.StatusCode}: {http.Response.Content}",
        OperationCanceledException => $"the Kubernetes API at {cluster.Server} did not answer within {ProbeTimeout.TotalSeconds:0} s",
        WorkerStartException => e.Message,
        _ => $"the Kubernetes API at {cluster.Server} cannot be reached: {e.Message}",
    };
}
