using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Api.Auth;

namespace Tern.Api.Tests.Kubernetes;

/// <summary>A fake cluster behind a daemon with auth on: a job pod's report carries its call's token and no API key.</summary>
public sealed class AuthOnFakeClusterDaemon : FakeClusterDaemon
{
    protected override AuthMode Auth => AuthMode.On;
}

/// <summary>kubernetes.controlPlaneUrl with a wrong path: the daemon answers each pod's report 404.</summary>
public sealed class MisaddressedFakeClusterDaemon : FakeClusterDaemon
{
    protected override string ControlPlanePath => "/not-tern";
}

/// <summary>How a job pod's report reaches the daemon: past API-key auth on its token alone; and what the call says when
/// the report cannot be delivered (the pod fails, the pod watch reports it with the agent's last words).</summary>
public sealed class FakeClusterJobReportTests
{
    internal static readonly byte[] Handler = Encoding.UTF8.GetBytes("""
        import os
        def handler(event, context):
            return {"pod": os.uname().nodename}
        """);

    internal static Task CreateAsync(FakeClusterDaemon daemon, string name) =>
        daemon.CreateOkAsync(name, "python", Handler, "lambda_function.py", new JsonObject
        {
            ["mode"] = "persistent", ["handler"] = "lambda_function.handler", ["isolation"] = "kubernetes",
            ["kubernetes"] = new JsonObject { ["style"] = "job" },
        });

    public sealed class WithAuthOn(AuthOnFakeClusterDaemon daemon) : IClassFixture<AuthOnFakeClusterDaemon>
    {
        [Fact]
        public async Task FakeCluster_JobStyle_WithAuthOn_ThePodReportsWithItsTokenAlone()
        {
            await CreateAsync(daemon, "job-auth");
            var result = await daemon.InvokeAsync("job-auth");
            Assert.True((string?)result["status"] == "success", result.ToJsonString());
            Assert.StartsWith("tern-call-", (string)result["output"]!["pod"]!, StringComparison.Ordinal);

            // The internal route answers for itself (its token), not with the API-key middleware's 401.
            using var anonymous = new HttpClient { BaseAddress = daemon.BaseAddress };
            using var response = await anonymous.PostAsync($"/v1/internal/executions/{result["executionId"]}:complete",
                new StringContent("""{"status":"success"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Token required", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["title"]);
            // Every other route still needs a key.
            using var functions = await anonymous.GetAsync("/v1/functions");
            Assert.Equal(HttpStatusCode.Unauthorized, functions.StatusCode);
        }
    }

    public sealed class WithReportsRefused(MisaddressedFakeClusterDaemon daemon) : IClassFixture<MisaddressedFakeClusterDaemon>
    {
        [Fact]
        public async Task FakeCluster_JobStyle_ReportRefused_ThePodFails_AndTheCallFailsWithThePodsReason()
        {
            await CreateAsync(daemon, "job-lost");
            var result = await daemon.InvokeAsync("job-lost");

            Assert.Equal("error", (string?)result["status"]);
            Assert.Equal("WorkerCrashed", (string?)result["error"]!["code"]);
            var message = (string)result["error"]!["message"]!;
            Assert.Matches($"^pod tern-call-{result["executionId"]}-[0-9a-f]{{4}}-[0-9a-f]{{5}} failed \\(Error, exit code 1: ", message);
            Assert.Contains("the control plane refused the result: 404", message); // the agent's last words
        }
    }
}
