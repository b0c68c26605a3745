using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Tern.Drivers.Kubernetes;

/// <summary>One worker Deployment as this daemon drives it: its replica count is the number of workers the daemon holds
/// on it or is starting (the daemon is its only writer), and its pods come from <see cref="DeploymentPods"/>.
/// A Deployment a previous daemon left is adopted at zero: the first scale removes pods nobody holds any more.</summary>
internal sealed class WorkerDeployment : IDisposable
{
    private readonly IKubernetes _client;
    private readonly string _namespace;
    private readonly SemaphoreSlim _scaling = new(1, 1);
    private int _replicas;

    private WorkerDeployment(IKubernetes client, string ns, string name, DeploymentPods pods)
    {
        _client = client;
        _namespace = ns;
        Name = name;
        Pods = pods;
    }

    public string Name { get; }
    public DeploymentPods Pods { get; }

    /// <summary>Creates the code ConfigMap and the Deployment unless they exist, and starts watching its pods.</summary>
    public static async Task<WorkerDeployment> OpenAsync(IKubernetes client, string ns, V1ConfigMap code, V1Deployment deployment,
        Func<IKubernetes, string, string, DeploymentPods> watch, CancellationToken ct)
    {
        await CreateUnlessExistsAsync(() => client.CoreV1.CreateNamespacedConfigMapAsync(code, ns, cancellationToken: ct)).ConfigureAwait(false);
        await CreateUnlessExistsAsync(() => client.AppsV1.CreateNamespacedDeploymentAsync(deployment, ns, cancellationToken: ct)).ConfigureAwait(false);
        return new WorkerDeployment(client, ns, deployment.Metadata.Name, watch(client, ns, deployment.Metadata.Name));
    }

    /// <summary>Content-addressed objects: one that exists already is the same (a ConfigMap is immutable; a Deployment's
    /// name is a hash of everything in its template).</summary>
    public static async Task CreateUnlessExistsAsync<T>(Func<Task<T>> create)
    {
        try
        {
            await create().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
        }
    }

    /// <summary>Adds <paramref name="delta"/> workers to the replica count and tells the API server.</summary>
    public async Task ScaleAsync(int delta, CancellationToken ct)
    {
        await _scaling.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _replicas = Math.Max(0, _replicas + delta);
            var patch = new V1Patch($"{{\"spec\":{{\"replicas\":{_replicas.ToString(CultureInfo.InvariantCulture)}}}}}", V1Patch.PatchType.MergePatch);
            await _client.AppsV1.PatchNamespacedDeploymentScaleAsync(patch, Name, _namespace, cancellationToken: ct).ConfigureAwait(false);
        }
        finally
        {
            _scaling.Release();
        }
    }

    /// <summary>Removes one worker's pod and one replica. The pod is marked cheapest to delete first, so the scale-down
    /// takes it rather than a pod another worker holds; then it is deleted outright, in case the ReplicaSet chose a pod
    /// still starting instead (it prefers those): that one is then recreated and the count stays right either way.
    /// A pod already gone (deleted by someone else, evicted) may have been replaced by its ReplicaSet, and a scale-down
    /// alone could then take a pod a new worker has just claimed: a pod nobody holds is removed in its place.</summary>
    public async Task RemovePodAsync(string pod, CancellationToken ct)
    {
        var spare = Pods.IsGone(pod) ? Pods.ClaimSpare() : null;
        try
        {
            var victim = spare ?? pod;
            var cheapest = new V1Patch($"{{\"metadata\":{{\"annotations\":{{\"{WorkerManifests.DeletionCost}\":\"{int.MinValue.ToString(CultureInfo.InvariantCulture)}\"}}}}}}",
                V1Patch.PatchType.MergePatch);
            await IgnoreNotFoundAsync(() => _client.CoreV1.PatchNamespacedPodAsync(cheapest, victim, _namespace, cancellationToken: ct)).ConfigureAwait(false);
            await ScaleAsync(-1, ct).ConfigureAwait(false);
            await IgnoreNotFoundAsync(() => _client.CoreV1.DeleteNamespacedPodAsync(victim, _namespace, cancellationToken: ct)).ConfigureAwait(false);
        }
        catch when (spare is not null)
        {
            Pods.ReleaseSpare(spare); // not removed: it may serve after all (once removed, the watch ends its claim)
            throw;
        }
    }

    private static async Task IgnoreNotFoundAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    public void Dispose() => Pods.Dispose();
}
