using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tern.Drivers.Sandbox;
using Tern.Testing;

namespace Tern.Drivers.Tests.Sandbox.Egress;

/// <summary>A daemon whose pasta is missing (as on a machine that skipped scripts/install-deps.sh): readiness stays 200
/// but says what egress lacks and how to install it; an egress call is one 503 problem saying the same; functions
/// without network run as before.</summary>
public sealed class EgressMissingPastaTests(EgressMissingPastaTests.NoPastaDaemon daemon) : IClassFixture<EgressMissingPastaTests.NoPastaDaemon>
{
    public sealed class NoPastaDaemon : DaemonFixture
    {
        public override Task InitializeAsync() => StartAsync(services =>
            services.Configure<SandboxOptions>(o => o.PastaPath = "/nonexistent/pasta"));
    }

    [RootFact]
    public async Task Ready_StaysReady_ButNamesPastaAndTheCommandThatInstallsIt()
    {
        using var response = await daemon.Client.GetAsync("/healthz/ready");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (string?)body["checks"]!["sandbox"]);
        var egress = (string?)body["checks"]!["sandbox-egress"];
        Assert.StartsWith("degraded: ", egress);
        Assert.Contains("/nonexistent/pasta", egress);
        Assert.Contains("apt-get install -y passt", egress);
    }

    [RootFact]
    public async Task EgressInvoke_Is503Problem_NamingPasta_WhileANoneFunctionRuns()
    {
        await daemon.CreateOkAsync("np-egress", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py", new { network = "egress" });
        await daemon.CreateOkAsync("np-none", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py");
        for (var i = 0; i < 2; i++) // the same answer each time, at once: no retries behind it
        {
            var started = DateTime.UtcNow;
            using var response = await daemon.Client.PostAsync("/v1/functions/np-egress:invoke", new StringContent("{}"));
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("apt-get install -y passt", (string?)problem["detail"]);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "the failure must come at once");
        }
        Assert.Equal(1, (int)(await daemon.InvokeAsync("np-none"))["output"]!);
    }
}
