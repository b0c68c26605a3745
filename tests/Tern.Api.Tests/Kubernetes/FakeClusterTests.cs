using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Tern.Testing;
using Tern.Testing.FakeKubernetes;

namespace Tern.Api.Tests.Kubernetes;

/// <summary>Functions with isolation kubernetes through the real daemon, its real kubernetes driver (the official client,
/// a pod watch) and a FAKE cluster: an in-process API server whose pods run the real Tern agent as local sandboxed
/// processes. Every call travels driver -> API -> pod -> agent -> result.</summary>
public sealed class FakeClusterTests(FakeClusterDaemon daemon) : IClassFixture<FakeClusterDaemon>
{
    private const string Namespace = "tern-workers";

    private static readonly byte[] Handler = Encoding.UTF8.GetBytes("""
        import os, time
        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            return {"pod": os.uname().nodename, "uid": os.getuid(), "pid": os.getpid(), "name": event.get("name")}
        """);

    private Task CreateAsync(string name, object? extra = null)
    {
        Assert.True(daemon.Cluster.Failures.IsEmpty, string.Join("\n", daemon.Cluster.Failures));
        var fields = new JsonObject { ["mode"] = "persistent", ["handler"] = "lambda_function.handler", ["isolation"] = "kubernetes" };
        if (extra is not null)
            foreach (var (key, value) in System.Text.Json.JsonSerializer.SerializeToNode(extra)!.AsObject()) fields[key] = value?.DeepClone();
        return daemon.CreateOkAsync(name, "python", Handler, "lambda_function.py", fields);
    }

    private V1Deployment DeploymentOf(string function) =>
        Assert.Single(daemon.Cluster.State.Deployments(), d => d.Metadata.Labels["tern.dev/function"] == function);

    private IReadOnlyList<V1Pod> PodsOf(string function) =>
        daemon.Cluster.State.Pods(Namespace, new Dictionary<string, string> { ["tern.dev/function"] = function });

    /// <summary>Invokes; a failure says what the fake cluster held at that moment (pods, replicas, the last requests).</summary>
    private async Task<JsonObject> InvokeExplainedAsync(string name)
    {
        try
        {
            return await daemon.InvokeAsync(name);
        }
        catch (InvalidOperationException e)
        {
            var pods = daemon.Cluster.State.AllPods().Select(p =>
                $"{p.Metadata.Name} {p.Status?.Phase} ready={FakeClusterState.IsReady(p)} deleting={p.Metadata.DeletionTimestamp is not null} " +
                $"ip={p.Status?.PodIP} restarts={p.Status?.ContainerStatuses?.FirstOrDefault()?.RestartCount}");
            var deployments = daemon.Cluster.State.Deployments().Select(d => $"{d.Metadata.Name} replicas={d.Spec.Replicas}");
            throw new InvalidOperationException($"{e.Message}\npods:\n{string.Join('\n', pods)}\ndeployments:\n{string.Join('\n', deployments)}" +
                $"\nlast requests:\n{string.Join('\n', daemon.Cluster.State.Requests.TakeLast(30))}\nagents running: {daemon.Cluster.Kubelet.RunningAgents}", e);
        }
    }

    [Fact]
    public async Task FakeCluster_PythonFunction_RunsColdThenWarm_OnOnePodOfItsDeployment()
    {
        await CreateAsync("k8s-hello");

        var cold = await daemon.InvokeAsync("k8s-hello", """{"name":"cold"}""");
        Assert.True((string?)cold["status"] == "success", cold.ToJsonString());
        Assert.True((bool)cold["coldStart"]!);
        var warm = await daemon.InvokeAsync("k8s-hello", """{"name":"warm"}""");
        Assert.Equal("success", (string?)warm["status"]);
        Assert.False((bool)warm["coldStart"]!);
        Assert.Equal("warm", (string?)warm["output"]!["name"]);

        // The handler ran in the pod (its hostname), as the pod's runAsUser, in the same persistent process when warm.
        var pod = Assert.Single(PodsOf("k8s-hello"));
        Assert.Equal(pod.Metadata.Name, (string?)cold["output"]!["pod"]);
        Assert.Equal(pod.Metadata.Name, (string?)warm["output"]!["pod"]);
        Assert.Equal((int)cold["output"]!["pid"]!, (int)warm["output"]!["pid"]!);
        Assert.Equal(65534, (int)cold["output"]!["uid"]!);

        var deployment = DeploymentOf("k8s-hello");
        Assert.Equal(1, deployment.Spec.Replicas);
        var function = JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/functions/k8s-hello"))!;
        Assert.StartsWith(deployment.Metadata.Labels["tern.dev/code-hash"], (string)function["codeHash"]!, StringComparison.Ordinal);
        // Pods are found with a watch, not by polling the pod list.
        Assert.Contains(daemon.Cluster.State.Requests.ToList(), r => r == $"GET /api/v1/namespaces/{Namespace}/pods?watch");
        var ready = JsonNode.Parse(await daemon.Client.GetStringAsync("/healthz/ready"))!;
        Assert.Equal("ok", (string?)ready["checks"]!["kubernetes"]);
    }

    [Fact]
    public async Task FakeCluster_LongFunctionNameEndingInUnderscore_GetsValidObjectNamesAndLabels()
    {
        var name = "k8s_" + new string('x', 59) + "_"; // 64 characters, the longest a function name may be
        await CreateAsync(name);
        var result = await daemon.InvokeAsync(name);
        Assert.True((string?)result["status"] == "success", result.ToJsonString());
        var deployment = Assert.Single(daemon.Cluster.State.Deployments(), d => d.Metadata.Name.StartsWith("tern-k8s-xxx", StringComparison.Ordinal));
        Assert.Equal(name[..63].TrimEnd('_'), deployment.Metadata.Labels["tern.dev/function"]);
    }

    [Fact]
    public async Task FakeCluster_ConcurrentLoad_ScalesUpToMaxReplicas_AndNoFurther()
    {
        await CreateAsync("k8s-load", new { maxReplicas = 3 });
        var calls = Enumerable.Range(0, 9).Select(i => daemon.InvokeAsync("k8s-load", $$"""{"sleep":1,"name":"c{{i}}"}""")).ToList();
        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.True((string?)r["status"] == "success", r.ToJsonString()));
        var pods = results.Select(r => (string)r["output"]!["pod"]!).Distinct().ToList();
        Assert.Equal(3, pods.Count);
        Assert.Equal(3, DeploymentOf("k8s-load").Spec.Replicas);
        Assert.True(PodsOf("k8s-load").Count <= 3);
    }

    [Fact]
    public async Task FakeCluster_IdleTtl_ScalesTheDeploymentToZero_ThenAColdStartScalesItUp()
    {
        await CreateAsync("k8s-idle");
        var first = await daemon.InvokeAsync("k8s-idle");
        Assert.True((string?)first["status"] == "success", first.ToJsonString());
        Assert.Equal(1, DeploymentOf("k8s-idle").Spec.Replicas);

        await Eventually.TrueAsync(() => DeploymentOf("k8s-idle").Spec.Replicas == 0 && PodsOf("k8s-idle").Count == 0,
            "the idle worker's Deployment scaling to zero", 30_000);

        var again = await daemon.InvokeAsync("k8s-idle");
        Assert.True((string?)again["status"] == "success", again.ToJsonString());
        Assert.True((bool)again["coldStart"]!);
        Assert.NotEqual((string?)first["output"]!["pod"], (string?)again["output"]!["pod"]);
        Assert.Equal(1, DeploymentOf("k8s-idle").Spec.Replicas);
    }

    // Once flaky (a capacity leak): the failed worker's teardown scaled the Deployment down while its pod was already
    // gone, so the ReplicaSet could take the replacement pod the next start had just claimed; that start's worker was then
    // dead on arrival, and the pool kept it as a worker and left the call waiting 60 s for a 429. Both are fixed (the
    // teardown removes a pod nobody holds instead; the pool treats a worker dead on arrival as a failed start).
    [Fact]
    public async Task FakeCluster_PodDeletedDuringACall_TheCallFailsNamingThePod_ThenAFreshPodServes()
    {
        await CreateAsync("k8s-killed", new { timeoutMs = 60000 });
        var warmup = await daemon.InvokeAsync("k8s-killed");
        Assert.True((string?)warmup["status"] == "success", warmup.ToJsonString());
        var pod = (string)warmup["output"]!["pod"]!;

        var slow = daemon.InvokeAsync("k8s-killed", """{"sleep":20}""");
        await Task.Delay(1000); // the call is in the handler
        Assert.True(daemon.Cluster.State.DeletePod(Namespace, pod)); // as `kubectl delete pod` would
        var failed = await slow.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal("error", (string?)failed["status"]);
        Assert.Equal("WorkerCrashed", (string?)failed["error"]!["code"]);
        Assert.Contains($"pod {pod}", (string?)failed["error"]!["message"]);

        var fresh = await InvokeExplainedAsync("k8s-killed");
        Assert.True((string?)fresh["status"] == "success", fresh.ToJsonString());
        Assert.True((bool)fresh["coldStart"]!);
        Assert.NotEqual(pod, (string?)fresh["output"]!["pod"]);
        Assert.Equal(1, DeploymentOf("k8s-killed").Spec.Replicas);

        // Every call the driver made (create, scale, watch, patch, delete by now) is one deploy/'s Role grants.
        var granted = Tern.Drivers.Kubernetes.KubernetesPermissions.Rules
            .SelectMany(r => r.Verbs.Select(v => (r.ApiGroup, r.Resource, v))).ToHashSet();
        var made = daemon.Cluster.State.Requests.ToList().Select(Tern.Testing.FakeKubernetes.FakeKubernetesServer.AsRbac).ToHashSet();
        Assert.Contains(("", "pods", "delete"), made);
        Assert.Contains(("apps", "deployments/scale", "patch"), made);
        Assert.Subset(granted, made);
    }
}

/// <summary>A daemon with no cluster configured (no kubeconfig, not in a pod): it is ready for everything else,
/// readiness names what the kubernetes driver lacks, and registering a kubernetes function is a 400 saying so. One with
/// a kubeconfig whose API server does not answer says that instead. No fake cluster is started.</summary>
public sealed class KubernetesMissingTests
{
    [Fact]
    public async Task NoClusterConfigured_ReadinessDegraded_AndRegisterIs400()
    {
        var daemon = new DaemonFixture();
        await daemon.InitializeAsync();
        try
        {
            await AssertUnavailableAsync(daemon, "no Kubernetes cluster is configured: set kubernetes.kubeconfig");
        }
        finally
        {
            await daemon.DisposeAsync();
        }
    }

    [Fact]
    public async Task UnreachableApiServer_ReadinessDegraded_AndRegisterIs400()
    {
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"tern-kubeconfig-{Guid.NewGuid():N}");
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        File.WriteAllText(kubeconfig, """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
            users: [{name: u, user: {token: t}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """);
        try
        {
            var daemon = new UnreachableClusterDaemon(kubeconfig);
            await daemon.InitializeAsync();
            try
            {
                await AssertUnavailableAsync(daemon, "the Kubernetes API at http://127.0.0.1:1 cannot be reached");
            }
            finally
            {
                await daemon.DisposeAsync();
            }
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    private static async Task AssertUnavailableAsync(DaemonFixture daemon, string reason)
    {
        using var ready = await daemon.Client.GetAsync("/healthz/ready");
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        Assert.StartsWith("degraded: ", (string?)body["checks"]!["kubernetes"]);
        Assert.Contains(reason, (string?)body["checks"]!["kubernetes"]);

        using var create = await daemon.CreateAsync("k8s-missing", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py", new { isolation = "kubernetes" });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, create.StatusCode);
        Assert.Equal("application/problem+json", create.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reason, await create.Content.ReadAsStringAsync());
        await daemon.CreateOkAsync("still-fine", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py");
    }

    private sealed class UnreachableClusterDaemon(string kubeconfig) : DaemonFixture
    {
        public override Task InitializeAsync() =>
            StartAsync(services => Microsoft.Extensions.DependencyInjection.OptionsServiceCollectionExtensions.Configure<Tern.Drivers.Kubernetes.KubernetesOptions>(
                services, o => o.Kubeconfig = kubeconfig));
    }
}
