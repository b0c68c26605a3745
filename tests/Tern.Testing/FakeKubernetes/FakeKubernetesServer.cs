using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tern.Testing.FakeKubernetes;

/// <summary>A fake Kubernetes API server for tests, in this process (Kestrel on a loopback port, plain HTTP): exactly the
/// endpoints the kubernetes driver calls (ConfigMaps create; Deployments create, get, patch scale; pods list, watch,
/// patch, delete; for the job style Secrets and Jobs create, delete), with watch streaming, a Deployment and a Job
/// controller (<see cref="FakeClusterState"/>) and a kubelet that runs each pod as the real agent (<see cref="FakeKubelet"/>). Anything else is a 404, so a driver that starts calling
/// a new endpoint fails its fake-cluster tests until the fake (and deploy/'s Role) learn it.</summary>
public sealed partial class FakeKubernetesServer : IAsyncDisposable
{
    public const string Token = "fake-cluster-token";
    private readonly WebApplication _app;

    private FakeKubernetesServer(WebApplication app, FakeClusterState state, FakeKubelet kubelet, string dir)
    {
        _app = app;
        State = state;
        Kubelet = kubelet;
        Directory = dir;
    }

    public FakeClusterState State { get; }
    public FakeKubelet Kubelet { get; }

    /// <summary>A request as RBAC sees it: (apiGroup, resource, verb), e.g. ("apps", "deployments/scale", "patch").</summary>
    public static (string ApiGroup, string Resource, string Verb) AsRbac(string request)
    {
        var (method, rest) = (request[..request.IndexOf(' ')], request[(request.IndexOf(' ') + 1)..]);
        var watch = rest.EndsWith("?watch", StringComparison.Ordinal);
        var parts = rest.Replace("?watch", "").Trim('/').Split('/');
        // /api/v1/namespaces/NS/RESOURCE[/NAME[/SUB]] or /apis/GROUP/VERSION/namespaces/NS/RESOURCE[/NAME[/SUB]]
        var group = parts[0] == "api" ? "" : parts[1];
        var tail = parts.SkipWhile(p => p != "namespaces").Skip(2).ToArray();
        var resource = tail[0] + (tail.Length > 2 ? "/" + tail[2] : "");
        var verb = method switch
        {
            "GET" => watch ? "watch" : tail.Length == 1 ? "list" : "get",
            "POST" => "create",
            "PATCH" => "patch",
            "PUT" => "update",
            "DELETE" => "delete",
            _ => method.ToLowerInvariant(),
        };
        return (group, resource, verb);
    }

    /// <summary>Requests the fake itself failed on (a bug in the fake, or a call it does not understand), with the exception.</summary>
    public System.Collections.Concurrent.ConcurrentBag<string> Failures { get; } = [];
    public string Directory { get; }
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>A kubeconfig naming this server (token auth), written in <see cref="Directory"/>.</summary>
    public string KubeconfigPath => Path.Combine(Directory, "kubeconfig");

    public static async Task<FakeKubernetesServer> StartAsync(string agentPath, string runtimeAssets)
    {
        var dir = Path.Combine(Path.GetTempPath(), "tern-fake-k8s-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(dir);
        var state = new FakeClusterState();
        var kubelet = new FakeKubelet(state, agentPath, runtimeAssets, Path.Combine(dir, "pods"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeKubernetesServer(app, state, kubelet, dir);
        server.Map(app);
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Urls.First());
        File.WriteAllText(server.KubeconfigPath, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {server.BaseAddress.ToString().TrimEnd('/')}
            users:
            - name: tern
              user:
                token: {Token}
            contexts:
            - name: fake
              context:
                cluster: fake
                user: tern
                namespace: tern-workers
            current-context: fake
            """);
        return server;
    }

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            State.Record($"{context.Request.Method} {context.Request.Path}{(context.Request.Query.ContainsKey("watch") ? "?watch" : "")}");
            if (context.Request.Headers.Authorization != $"Bearer {Token}")
            {
                context.Response.StatusCode = 401;
                return;
            }
            try
            {
                await next(context);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Failures.Add($"{context.Request.Method} {context.Request.Path}: {e}");
                throw;
            }
        });

        app.MapPost("/api/v1/namespaces/{ns}/configmaps", async (string ns, HttpRequest request) =>
        {
            var configMap = await ReadAsync<V1ConfigMap>(request);
            if (Invalid(configMap.Metadata) is { } invalid) return Status(422, invalid);
            return State.CreateConfigMap(ns, configMap) ? Json(configMap, 201) : Status(409, "AlreadyExists");
        });
        app.MapPost("/apis/apps/v1/namespaces/{ns}/deployments", async (string ns, HttpRequest request) =>
        {
            var deployment = await ReadAsync<V1Deployment>(request);
            if ((Invalid(deployment.Metadata) ?? Invalid(deployment.Spec.Template.Metadata)) is { } invalid) return Status(422, invalid);
            return State.CreateDeployment(ns, deployment) ? Json(deployment, 201) : Status(409, "AlreadyExists");
        });
        app.MapGet("/apis/apps/v1/namespaces/{ns}/deployments/{name}", (string ns, string name) =>
            State.Deployment(ns, name) is { } deployment ? Json(deployment) : Status(404, "NotFound"));
        app.MapMethods("/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale", ["PATCH"], async (string ns, string name, HttpRequest request) =>
        {
            var patch = JsonNode.Parse(await new StreamReader(request.Body).ReadToEndAsync())!;
            var replicas = (int?)patch["spec"]?["replicas"];
            if (replicas is null or < 0) return Status(422, "Invalid");
            return State.Scale(ns, name, replicas.Value) is { } scaled
                ? Json(new V1Scale { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Spec = new V1ScaleSpec { Replicas = scaled } })
                : Status(404, "NotFound");
        });
        app.MapGet("/api/v1/namespaces/{ns}/pods", (string ns, HttpContext context) => context.Request.Query["watch"] == "true"
            ? WatchPodsAsync(ns, context)
            : Json(new V1PodList
            {
                Metadata = new V1ListMeta { ResourceVersion = State.ResourceVersion.ToString(CultureInfo.InvariantCulture) },
                Items = [.. State.Pods(ns, Selector(context.Request.Query["labelSelector"]))],
            }).ExecuteAsync(context));
        app.MapMethods("/api/v1/namespaces/{ns}/pods/{name}", ["PATCH"], async (string ns, string name, HttpRequest request) =>
        {
            var patch = JsonNode.Parse(await new StreamReader(request.Body).ReadToEndAsync())!;
            var annotations = patch["metadata"]?["annotations"]?.AsObject();
            var changed = State.UpdatePod(ns, name, pod =>
            {
                pod.Metadata.Annotations ??= new Dictionary<string, string>();
                foreach (var (key, value) in annotations ?? []) pod.Metadata.Annotations[key] = (string)value!;
            });
            return changed ? Json(State.Pod(ns, name)!) : Status(404, "NotFound");
        });
        app.MapDelete("/api/v1/namespaces/{ns}/pods/{name}", (string ns, string name) =>
        {
            var pod = State.Pod(ns, name);
            return pod is not null && State.DeletePod(ns, name) ? Json(pod) : Status(404, "NotFound");
        });
        app.MapPost("/api/v1/namespaces/{ns}/secrets", async (string ns, HttpRequest request) =>
        {
            var secret = await ReadAsync<V1Secret>(request);
            if (Invalid(secret.Metadata) is { } invalid) return Status(422, invalid);
            return State.CreateSecret(ns, secret) ? Json(secret, 201) : Status(409, "AlreadyExists");
        });
        app.MapDelete("/api/v1/namespaces/{ns}/secrets/{name}", (string ns, string name) =>
            State.DeleteSecret(ns, name) ? Success() : Status(404, "NotFound"));
        app.MapPost("/apis/batch/v1/namespaces/{ns}/jobs", async (string ns, HttpRequest request) =>
        {
            var job = await ReadAsync<V1Job>(request);
            if ((Invalid(job.Metadata) ?? Invalid(job.Spec.Template.Metadata)) is { } invalid) return Status(422, invalid);
            if (job.Spec.Template.Spec.RestartPolicy is not ("Never" or "OnFailure")) return Status(422, "Invalid: a Job's restartPolicy must be Never or OnFailure");
            return State.CreateJob(ns, job) ? Json(job, 201) : Status(409, "AlreadyExists");
        });
        app.MapDelete("/apis/batch/v1/namespaces/{ns}/jobs/{name}", (string ns, string name) =>
            State.DeleteJob(ns, name) ? Success() : Status(404, "NotFound"));
        app.MapFallback(() => Status(404, "NotFound"));
    }

    /// <summary>A watch: newline-delimited {"type","object"} events after the request's resourceVersion, streamed as they
    /// happen, until the client goes.</summary>
    private async Task WatchPodsAsync(string ns, HttpContext context)
    {
        var selector = Selector(context.Request.Query["labelSelector"]);
        var after = long.TryParse(context.Request.Query["resourceVersion"], out var rv) ? rv : State.ResourceVersion;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(context.RequestAborted);
        try
        {
            while (!context.RequestAborted.IsCancellationRequested)
            {
                var (events, next) = State.PodEventsAfter(ns, after, selector);
                foreach (var e in events)
                {
                    await context.Response.WriteAsync($"{{\"type\":\"{e.Type}\",\"object\":{e.Json}}}\n", context.RequestAborted);
                    after = e.ResourceVersion;
                }
                await context.Response.Body.FlushAsync(context.RequestAborted);
                if (events.Count == 0) await next.WaitAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>The API server's checks on names and labels (DNS-1123 label names, 63-character label values that begin
    /// and end with a letter or digit), so the fake refuses what a real cluster would.</summary>
    private static string? Invalid(V1ObjectMeta? meta)
    {
        if (meta is null) return null;
        if (meta.Name is { } name && (name.Length > 63 || !DnsLabel().IsMatch(name))) return $"Invalid: metadata.name '{name}'";
        foreach (var (key, value) in meta.Labels ?? new Dictionary<string, string>())
            if (value.Length > 63 || !LabelValue().IsMatch(value)) return $"Invalid: label {key}='{value}'";
        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial System.Text.RegularExpressions.Regex DnsLabel();

    [System.Text.RegularExpressions.GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial System.Text.RegularExpressions.Regex LabelValue();

    private static Dictionary<string, string> Selector(string? labelSelector) =>
        string.IsNullOrEmpty(labelSelector) ? []
            : labelSelector.Split(',').Select(term => term.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);

    private static async Task<T> ReadAsync<T>(HttpRequest request) =>
        KubernetesJson.Deserialize<T>(await new StreamReader(request.Body).ReadToEndAsync());

    private static IResult Json<T>(T value, int status = 200) =>
        Results.Text(KubernetesJson.Serialize(value), "application/json", Encoding.UTF8, status);

    private static IResult Success() =>
        Results.Text(new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Success" }.ToJsonString(), "application/json", Encoding.UTF8, 200);

    private static IResult Status(int code, string reason) =>
        Results.Text(new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["reason"] = reason, ["code"] = code, ["message"] = reason,
        }.ToJsonString(), "application/json", Encoding.UTF8, code); // the client's V1Status converter only reads

    public async ValueTask DisposeAsync()
    {
        Kubelet.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
