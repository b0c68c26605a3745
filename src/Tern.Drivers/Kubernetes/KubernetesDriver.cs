using System.Collections.Concurrent;
using k8s;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Core.Code;
using Tern.Core.Functions;
using Tern.Drivers.Completions;
using Tern.Drivers.Kubernetes.Jobs;
using Tern.Drivers.Transport;

namespace Tern.Drivers.Kubernetes;

/// <summary>Workers are pods: per function (and code, image, limits) a Deployment whose pods run the Tern agent
/// listening on TCP; one worker is one pod. Starting a worker adds a replica and claims the first pod the pod watch
/// reports Ready, then dials podIP:agentPort and speaks the agent protocol as every driver does, so pools, timeouts,
/// min/max replicas and idle scale-to-zero work unchanged. Code travels as an immutable ConfigMap mounted at /code.
/// The daemon is the only writer of these Deployments' replica counts (docs/kubernetes.md).</summary>
internal sealed partial class KubernetesDriver : IIsolationDriver, IDisposable
{
    public const string DriverName = "kubernetes";

    private readonly KubernetesOptions _options;
    private readonly ICodeSource? _codeSource;
    private readonly ILogger<KubernetesDriver> _logger;
    private readonly KubernetesCluster _cluster;
    private readonly KubernetesReachability _reachability;
    private readonly ConcurrentDictionary<string, Lazy<Task<WorkerDeployment>>> _deployments = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task>> _codeConfigMaps = new(StringComparer.Ordinal);
    private readonly Lazy<(JobPods Pods, CallJobs Jobs)> _callJobs;

    public KubernetesDriver(IOptions<KubernetesOptions> options, ILogger<KubernetesDriver> logger, ExecutionCompletions completions,
        ICodeSource? codeSource = null)
    {
        _options = options.Value;
        _logger = logger;
        _codeSource = codeSource;
        _cluster = new KubernetesCluster(_options);
        _reachability = new KubernetesReachability(_cluster);
        _callJobs = new(() =>
        {
            var pods = new JobPods(_cluster.Client, _cluster.Namespace, _logger, _reachability.Observe);
            return (pods, new CallJobs(_cluster.Client, _cluster.Namespace, pods, completions, _options, _logger));
        });
    }

    public string Name => DriverName;

    /// <summary>A pod's code is fixed by its Deployment; there are no spare pods to hand code to later.</summary>
    public bool SupportsTemplates => false;

    public string? Problem() => _reachability.Problem();

    public async Task<IWorker> StartWorkerAsync(WorkerSpec spec, CancellationToken ct)
    {
        if (_cluster.ConfigurationProblem is { } problem) throw new WorkerStartException(problem);
        if (spec.Code is null) throw new WorkerStartException("the kubernetes driver starts no template workers");
        if (spec.Network.Mode != FunctionNetwork.NoneMode)
            throw new WorkerStartException("the kubernetes driver does not filter egress; network egress needs isolation: sandbox");

        var image = _options.Image.Replace("{runtime}", spec.Runtime ?? "python", StringComparison.Ordinal);
        if (spec.Style == FunctionKubernetes.JobStyle) return await StartJobWorkerAsync(spec, image, ct).ConfigureAwait(false);
        var name = WorkerManifests.DeploymentName(spec, image);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.StartTimeout);
        WorkerDeployment deployment;
        try
        {
            deployment = await OpenDeploymentAsync(name, spec, image, timeout.Token).ConfigureAwait(false);
            await deployment.ScaleAsync(+1, timeout.Token).ConfigureAwait(false);
            _reachability.Observe(null);
        }
        catch (Exception e) when (KubernetesReachability.IsApiFailure(e) && !ct.IsCancellationRequested)
        {
            _reachability.Observe(e);
            throw new WorkerStartException($"could not scale up {name}: {_reachability.Describe(e)}", e);
        }

        string? pod = null;
        try
        {
            var claimed = await deployment.Pods.ClaimReadyAsync(timeout.Token).ConfigureAwait(false);
            pod = claimed.Metadata.Name;
            var stream = await DialAsync(claimed.Status.PodIP, deployment.Pods.Ended(pod), timeout.Token).ConfigureAwait(false);
            LogStarted(spec.WorkerId, spec.FunctionName, pod, claimed.Status.PodIP);
            return new KubernetesWorker(spec.WorkerId, pod, stream, deployment, _logger);
        }
        catch (Exception e)
        {
            var ended = pod is null ? null : deployment.Pods.Ended(pod);
            var why = ended is null ? deployment.Pods.WaitingReasons() : ended.IsCompletedSuccessfully ? ended.Result : "";
            await UndoStartAsync(deployment, pod).ConfigureAwait(false);
            if (ct.IsCancellationRequested) throw;
            if (e is OperationCanceledException)
            {
                throw new WorkerStartException(pod is null
                    ? $"no pod of {name} became Ready within {_options.StartTimeout.TotalSeconds:0} s{(why.Length > 0 ? ": " + why : "")}"
                    : $"the agent in pod {pod} did not accept a connection{(why.Length > 0 ? ": " + why : $" within {_options.StartTimeout.TotalSeconds:0} s")}", e);
            }
            throw;
        }
    }

    /// <summary>Connects to the agent on the pod, retrying while it is not listening yet; gives up when the pod goes.</summary>
    private async Task<Stream> DialAsync(string podIp, Task<string> podEnded, CancellationToken ct)
    {
        using var dialing = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var endpoint = AgentEndpoint.DialTcp(podIp, _options.AgentPort);
        var dial = endpoint.OpenAsync(dialing.Token);
        if (await Task.WhenAny(dial, podEnded).ConfigureAwait(false) == dial) return await dial.ConfigureAwait(false);
        await dialing.CancelAsync().ConfigureAwait(false);
        try { (await dial.ConfigureAwait(false)).Dispose(); } catch (OperationCanceledException) { }
        throw new OperationCanceledException(podEnded.Result);
    }

    private async Task UndoStartAsync(WorkerDeployment deployment, string? pod)
    {
        try
        {
            using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            if (pod is null) await deployment.ScaleAsync(-1, cleanup.Token).ConfigureAwait(false);
            else await deployment.RemovePodAsync(pod, cleanup.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (KubernetesReachability.IsApiFailure(e))
        {
            LogCleanupFailed(deployment.Name, e.Message);
        }
        finally
        {
            if (pod is not null) deployment.Pods.Release(pod);
        }
    }

    /// <summary>The per-call style: the worker lives in the daemon and makes a Job per call; starting it only makes sure
    /// the code's ConfigMap exists.</summary>
    private async Task<IWorker> StartJobWorkerAsync(WorkerSpec spec, string image, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(_options.ControlPlaneUrl))
            throw new WorkerStartException("the kubernetes job style needs kubernetes.controlPlaneUrl (TERN_KUBERNETES_CONTROL_PLANE_URL): " +
                "the control plane's address, where each call's pod posts its result");
        var localPath = _codeSource?.LocalPath(spec.Code!)
            ?? throw new WorkerStartException($"code package {spec.Code!.Hash} is not stored on this host");
        var (configMap, items) = WorkerManifests.CodeConfigMap(spec.Code!, localPath);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.StartTimeout);
        try
        {
            var creating = _codeConfigMaps.GetOrAdd(configMap.Metadata.Name, _ => new Lazy<Task>(() => WorkerDeployment.CreateUnlessExistsAsync(
                () => _cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(configMap, _cluster.Namespace))));
            _ = creating.Value.ContinueWith(t => _codeConfigMaps.TryRemove(new(configMap.Metadata.Name, creating)), CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            await creating.Value.WaitAsync(timeout.Token).ConfigureAwait(false);
            _reachability.Observe(null);
        }
        catch (Exception e) when (KubernetesReachability.IsApiFailure(e) && !ct.IsCancellationRequested)
        {
            _reachability.Observe(e);
            throw new WorkerStartException($"could not create the code ConfigMap {configMap.Metadata.Name}: {_reachability.Describe(e)}", e);
        }
        return new JobWorker(spec, image, configMap.Metadata.Name, items, _callJobs.Value.Jobs);
    }

    private Task<WorkerDeployment> OpenDeploymentAsync(string name, WorkerSpec spec, string image, CancellationToken ct)
    {
        var opening = _deployments.GetOrAdd(name, _ => new Lazy<Task<WorkerDeployment>>(() => CreateAsync(name, spec, image)));
        // A failed open is not remembered: the next start tries again.
        _ = opening.Value.ContinueWith(t => _deployments.TryRemove(new(name, opening)), CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return opening.Value.WaitAsync(ct);
    }

    private async Task<WorkerDeployment> CreateAsync(string name, WorkerSpec spec, string image)
    {
        var localPath = _codeSource?.LocalPath(spec.Code!)
            ?? throw new WorkerStartException($"code package {spec.Code!.Hash} is not stored on this host");
        var (configMap, items) = WorkerManifests.CodeConfigMap(spec.Code!, localPath);
        var deployment = WorkerManifests.Deployment(name, spec, image, configMap.Metadata.Name, items, _options);
        using var timeout = new CancellationTokenSource(_options.StartTimeout);
        var opened = await WorkerDeployment.OpenAsync(_cluster.Client, _cluster.Namespace, configMap, deployment,
            (client, ns, deploymentName) => new DeploymentPods(client, ns, deploymentName, _logger, _reachability.Observe),
            timeout.Token).ConfigureAwait(false);
        LogDeploymentOpened(name, spec.FunctionName, _cluster.Namespace);
        return opened;
    }

    public void Dispose()
    {
        foreach (var opening in _deployments.Values)
            if (opening.IsValueCreated && opening.Value.IsCompletedSuccessfully) opening.Value.Result.Dispose();
        if (_callJobs.IsValueCreated) _callJobs.Value.Pods.Dispose();
        _cluster.Dispose();
    }

    [LoggerMessage(EventId = 141, Level = LogLevel.Debug, Message = "kubernetes worker {WorkerId} for {Function} is pod {Pod} at {PodIp}")]
    private partial void LogStarted(string workerId, string function, string pod, string podIp);

    [LoggerMessage(EventId = 142, Level = LogLevel.Information, Message = "using Deployment {Deployment} for {Function} in namespace {Namespace}")]
    private partial void LogDeploymentOpened(string deployment, string function, string @namespace);

    [LoggerMessage(EventId = 143, Level = LogLevel.Warning, Message = "could not scale {Deployment} back down after a failed start: {Reason}")]
    private partial void LogCleanupFailed(string deployment, string reason);
}
