using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tern.Agent.Protocol;
using Tern.Testing;
using Tern.Testing.FakeKubernetes;

namespace Tern.Api.Tests.Kubernetes;

/// <summary>The per-call style (kubernetes: {style: job}) through the real daemon and a FAKE cluster whose Job pods run
/// the real agent in one-shot mode: every call travels daemon -> API (Secret + Job) -> pod -> agent -> POST
/// /v1/internal/executions/{id}:complete -> result.</summary>
public sealed class FakeClusterJobTests(FakeClusterDaemon daemon) : IClassFixture<FakeClusterDaemon>
{
    private const string Namespace = "tern-workers";

    private static readonly byte[] Handler = Encoding.UTF8.GetBytes("""
        import os, time
        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            if event.get("fail"):
                raise ValueError("bad input: " + event["fail"])
            return {"pod": os.uname().nodename, "uid": os.getuid(), "name": event.get("name"), "request": context.aws_request_id}
        """);

    private Task CreateAsync(string name, object? extra = null)
    {
        var fields = new JsonObject
        {
            ["mode"] = "persistent", ["handler"] = "lambda_function.handler", ["isolation"] = "kubernetes",
            ["kubernetes"] = new JsonObject { ["style"] = "job" },
        };
        if (extra is not null)
            foreach (var (key, value) in JsonSerializer.SerializeToNode(extra)!.AsObject()) fields[key] = value?.DeepClone();
        return daemon.CreateOkAsync(name, "python", Handler, "lambda_function.py", fields);
    }

    private IEnumerable<k8s.Models.V1Job> JobsOf(string function) =>
        daemon.Cluster.State.JobsCreated.Where(j => j.Metadata.Labels["tern.dev/function"] == function);

    private int LiveObjectsOf(string function) =>
        daemon.Cluster.State.Jobs().Count(j => j.Metadata.Labels["tern.dev/function"] == function)
        + daemon.Cluster.State.Pods(Namespace, new Dictionary<string, string> { ["tern.dev/function"] = function }).Count;

    private async Task<JsonObject> InvokeAsync(string name, string eventJson)
    {
        Assert.True(daemon.Cluster.Failures.IsEmpty, string.Join("\n", daemon.Cluster.Failures));
        return await daemon.InvokeAsync(name, eventJson);
    }

    [Fact]
    public async Task FakeCluster_JobStyle_AnEventOverTheSecretLimit_IsPayloadTooLarge_AndMakesNoJob_ALargeOneUnderItRuns()
    {
        await CreateAsync("job-big", new { timeoutMs = 20_000 });

        var refused = await InvokeAsync("job-big", JsonSerializer.Serialize(new { name = new string('x', 1_100_000) }));
        Assert.Equal("error", (string?)refused["status"]);
        Assert.Equal("PayloadTooLarge", (string?)refused["error"]!["code"]);
        Assert.Contains("1 MiB", (string?)refused["error"]!["message"]);
        Assert.Empty(JobsOf("job-big"));

        var large = await InvokeAsync("job-big", JsonSerializer.Serialize(new { name = new string('y', 600_000) }));
        Assert.True((string?)large["status"] == "success", large.ToJsonString()[..Math.Min(2000, large.ToJsonString().Length)]);
        Assert.Equal(600_000, ((string)large["output"]!["name"]!).Length);
        Assert.Single(JobsOf("job-big"));
    }

    [Fact]
    public async Task FakeCluster_JobStyle_SyncCalls_EachRunInAJobOfItsOwn_ThenJobPodAndSecretAreRemoved()
    {
        await CreateAsync("job-hello", new { timeoutMs = 20_000 });

        var first = await InvokeAsync("job-hello", """{"name":"one"}""");
        Assert.True((string?)first["status"] == "success", first.ToJsonString());
        var second = await InvokeAsync("job-hello", """{"name":"two"}""");
        Assert.True((string?)second["status"] == "success", second.ToJsonString());

        // Each ran in a pod of a Job named after its execution, as the pod's runAsUser, and saw its own request id.
        foreach (var call in new[] { first, second })
        {
            var id = (string)call["executionId"]!;
            Assert.StartsWith($"tern-call-{id}-", (string)call["output"]!["pod"]!, StringComparison.Ordinal);
            Assert.Equal(id, (string?)call["output"]!["request"]);
            Assert.Equal(65534, (int)call["output"]!["uid"]!);
        }
        Assert.Equal("two", (string?)second["output"]!["name"]);
        Assert.NotEqual((string?)first["output"]!["pod"], (string?)second["output"]!["pod"]);

        var jobs = JobsOf("job-hello").ToList();
        Assert.Equal(2, jobs.Count);
        Assert.All(jobs, job =>
        {
            Assert.Equal(0, job.Spec.BackoffLimit);
            Assert.Equal(20 + 30, job.Spec.ActiveDeadlineSeconds); // the timeout plus kubernetes.startTimeout (30 s here)
            Assert.NotNull(job.Spec.TtlSecondsAfterFinished);
            Assert.Equal("Never", job.Spec.Template.Spec.RestartPolicy);
        });
        Assert.DoesNotContain(daemon.Cluster.State.Deployments(), d => d.Metadata.Labels["tern.dev/function"] == "job-hello");
        await Eventually.TrueAsync(() => LiveObjectsOf("job-hello") == 0 && daemon.Cluster.State.Secrets().Count == 0,
            "the calls' Jobs, pods and Secrets being deleted", 15_000);

        // Every call the driver made is one deploy/'s Role grants, and pod failures are watched, not polled.
        var granted = Tern.Drivers.Kubernetes.KubernetesPermissions.Rules.SelectMany(r => r.Verbs.Select(v => (r.ApiGroup, r.Resource, v))).ToHashSet();
        var made = daemon.Cluster.State.Requests.ToList().Select(FakeKubernetesServer.AsRbac).ToHashSet();
        Assert.Contains(("batch", "jobs", "create"), made);
        Assert.Contains(("batch", "jobs", "delete"), made);
        Assert.Contains(("", "secrets", "create"), made);
        Assert.Contains(("", "pods", "watch"), made);
        Assert.Subset(granted, made);
    }

    [Fact]
    public async Task FakeCluster_JobStyle_AsyncCall_CompletesItsExecutionRecordThroughTheSamePath()
    {
        await CreateAsync("job-async");
        using var response = await daemon.Client.PostAsync("/v1/functions/job-async:enqueue",
            new StringContent("""{"name":"later"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["executionId"]!;

        var record = await daemon.WaitTerminalAsync(id, TimeSpan.FromSeconds(60));
        Assert.True((string?)record["status"] == "success", record.ToJsonString());
        Assert.Equal("later", (string?)record["output"]!["name"]);
        Assert.StartsWith($"tern-call-{id}-", (string)record["output"]!["pod"]!, StringComparison.Ordinal);
        Assert.Single(JobsOf("job-async"));
    }

    [Fact]
    public async Task FakeCluster_JobStyle_ConcurrentCalls_RunInConcurrentJobs()
    {
        await CreateAsync("job-load");
        var calls = Enumerable.Range(0, 4).Select(i => InvokeAsync("job-load", $$"""{"sleep":3,"name":"c{{i}}"}""")).ToList();
        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.True((string?)r["status"] == "success", r.ToJsonString()));
        Assert.Equal(4, results.Select(r => (string)r["output"]!["pod"]!).Distinct().Count());
        Assert.Equal(4, JobsOf("job-load").Count());
        Assert.True(daemon.Cluster.State.MostJobsAtOnce >= 4, $"at most {daemon.Cluster.State.MostJobsAtOnce} Jobs existed at once");
    }

    [Fact]
    public async Task FakeCluster_JobStyle_HandlerError_IsTheCallsError()
    {
        await CreateAsync("job-error");
        var result = await InvokeAsync("job-error", """{"fail":"no name"}""");

        Assert.Equal("error", (string?)result["status"]);
        Assert.Equal("HandlerFailed", (string?)result["error"]!["code"]);
        Assert.Equal("ValueError", (string?)result["error"]!["errorType"]);
        Assert.Equal("bad input: no name", (string?)result["error"]!["errorMessage"]);
    }

    [Fact]
    public async Task FakeCluster_JobStyle_Timeout_FailsAsTimeout_AndTheJobIsDeleted()
    {
        await CreateAsync("job-slow", new { timeoutMs = 2000 });
        var result = await InvokeAsync("job-slow", """{"sleep":30}""");

        Assert.Equal("timeout", (string?)result["status"]);
        Assert.Equal("Timeout", (string?)result["error"]!["code"]);
        Assert.Single(JobsOf("job-slow"));
        await Eventually.TrueAsync(() => LiveObjectsOf("job-slow") == 0, "the timed-out call's Job and pod being deleted", 15_000);
    }

    [Fact]
    public async Task FakeCluster_JobStyle_PodDeletedBeforeItReports_TheCallFailsNamingThePod()
    {
        await CreateAsync("job-killed", new { timeoutMs = 60_000 });
        var slow = InvokeAsync("job-killed", """{"sleep":30}""");
        var pod = await RunningPodAsync("job-killed");
        Assert.True(daemon.Cluster.State.DeletePod(Namespace, pod)); // as `kubectl delete pod` (or an eviction) would

        var failed = await slow.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("error", (string?)failed["status"]);
        Assert.Equal("WorkerCrashed", (string?)failed["error"]!["code"]);
        Assert.Contains($"pod {pod}", (string?)failed["error"]!["message"]);
    }

    [Fact]
    public async Task FakeCluster_JobStyle_Complete_RefusesMissingOrForgedTokens_UnknownCalls_AndSecondReports()
    {
        await CreateAsync("job-token", new { timeoutMs = 60_000 });
        var slow = InvokeAsync("job-token", """{"sleep":4,"name":"real"}""");
        await RunningPodAsync("job-token");
        var secret = Assert.Single(daemon.Cluster.State.Secrets());
        var call = JsonSerializer.Deserialize(secret.Data[OneShotCall.FileName], AgentJsonContext.Default.OneShotCall)!;
        var token = Encoding.UTF8.GetString(secret.Data[OneShotCall.TokenFileName]);
        var id = call.Exec.RequestId;
        const string forgedResult = """{"status":"success","output":{"name":"forged"}}""";

        await AssertProblemAsync(HttpStatusCode.Unauthorized, id, null, forgedResult);
        await AssertProblemAsync(HttpStatusCode.Forbidden, id, token[..^2] + (token.EndsWith("AA", StringComparison.Ordinal) ? "BB" : "AA"), forgedResult);
        await AssertProblemAsync(HttpStatusCode.NotFound, Guid.NewGuid().ToString(), token, forgedResult);
        await AssertProblemAsync(HttpStatusCode.BadRequest, id, token, "{not json");

        var result = await slow.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True((string?)result["status"] == "success", result.ToJsonString());
        Assert.Equal("real", (string?)result["output"]!["name"]); // none of the refused reports got through
        await AssertProblemAsync(HttpStatusCode.Conflict, id, token, forgedResult); // the real token, but the call is over
    }

    [Fact]
    public async Task KubernetesStyle_BadValueOrWrongIsolation_Is400()
    {
        using var unknown = await daemon.CreateAsync("job-bad", "python", Handler, "lambda_function.py",
            new { isolation = "kubernetes", kubernetes = new { style = "cron" } });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Contains("unknown kubernetes style 'cron'", await unknown.Content.ReadAsStringAsync());

        using var sandbox = await daemon.CreateAsync("job-bad", "python", Handler, "lambda_function.py",
            new { isolation = "sandbox", kubernetes = new { style = "job" } });
        Assert.Equal(HttpStatusCode.BadRequest, sandbox.StatusCode);
        Assert.Contains("need isolation 'kubernetes'", await sandbox.Content.ReadAsStringAsync());

        using var typo = await daemon.CreateAsync("job-bad", "python", Handler, "lambda_function.py",
            new { isolation = "kubernetes", kubernetes = new { stlye = "job" } });
        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
    }

    /// <summary>The name of the function's Job pod once its agent runs.</summary>
    private async Task<string> RunningPodAsync(string function)
    {
        string? pod = null;
        await Eventually.TrueAsync(() =>
        {
            pod = daemon.Cluster.State.Pods(Namespace, new Dictionary<string, string> { ["tern.dev/function"] = function })
                .FirstOrDefault(p => p.Status?.Phase == "Running")?.Metadata.Name;
            return pod is not null;
        }, $"a running pod of {function}'s Job", 30_000);
        await Task.Delay(1000); // the handler is in its sleep
        return pod!;
    }

    private async Task AssertProblemAsync(HttpStatusCode expected, string id, string? token, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/internal/executions/{id}:complete")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await daemon.Client.SendAsync(request);
        Assert.True(expected == response.StatusCode, $"{id} with token {token is not null}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
