using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tern.Drivers.Gvisor;
using Tern.Testing;

namespace Tern.Api.Tests.Gvisor;

/// <summary>A function with isolation gvisor, through the real daemon and the real runsc (installed by
/// scripts/install-deps.sh): it runs in gVisor's kernel (which reports Linux 4.4.0, not the host's), cold then warm, and
/// it cannot see the host's files or reach any network. Category "gvisor": each gVisor start costs about a second here.</summary>
[Trait("Category", "gvisor")]
public sealed class GvisorEndToEndTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static byte[] Py(string source) => Encoding.UTF8.GetBytes(source);

    [Fact]
    public async Task PythonFunction_IsolationGvisor_RunsColdThenWarm_InGvisorsKernel()
    {
        await daemon.CreateOkAsync("gv-hello", "python", Py("""
            import os
            def handler(event, context):
                return {"kernel": os.uname().release, "pid": os.getpid(), "name": event.get("name")}
            """), "lambda_function.py", new { mode = "persistent", handler = "lambda_function.handler", isolation = "gvisor" });
        var function = JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/functions/gv-hello"))!;
        Assert.Equal("gvisor", (string?)function["isolation"]);

        var cold = await daemon.InvokeAsync("gv-hello", """{"name":"cold"}""");
        Assert.Equal("success", (string?)cold["status"]);
        Assert.True((bool)cold["coldStart"]!);
        Assert.Equal("cold", (string?)cold["output"]!["name"]);
        // gVisor's sentry answers uname (4.4.0 in this build), not the host kernel.
        Assert.NotEqual(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), (string?)cold["output"]!["kernel"]);
        Assert.Equal("4.4.0", (string?)cold["output"]!["kernel"]);

        var warm = await daemon.InvokeAsync("gv-hello", """{"name":"warm"}""");
        Assert.Equal("success", (string?)warm["status"]);
        Assert.False((bool)warm["coldStart"]!);
        Assert.Equal((int)cold["output"]!["pid"]!, (int)warm["output"]!["pid"]!); // the same handler process

        // The first cold start on gvisor set off its spares (none before: a daemon pays for gVisor only once it is used).
        var templates = daemon.Services.GetRequiredService<Tern.Pools.WorkerTemplates>();
        for (var i = 0; i < 150 && templates.SpareCount("gvisor") < 2; i++) await Task.Delay(100);
        Assert.Equal(2, templates.SpareCount("gvisor"));

        // The runsc scripts/install-deps.sh adds has systrap, which auto picks: readiness (and so `tern status`) and the
        // metrics say so.
        var metrics = await daemon.Client.GetStringAsync("/metrics");
        Assert.Contains("tern_workers_started_total{function=\"gv-hello\",isolation=\"gvisor\"} 1", metrics);
        Assert.Contains("tern_gvisor_platform_info{platform=\"systrap\"} 1", metrics);
        var ready = JsonNode.Parse(await daemon.Client.GetStringAsync("/healthz/ready"))!;
        Assert.StartsWith($"ok: platform systrap: auto: runsc ", (string?)ready["checks"]!["gvisor"]);
        Assert.EndsWith($" at {GvisorOptions.InstalledRunsc} has systrap", (string?)ready["checks"]!["gvisor"]);
    }

    [Fact]
    public async Task Guest_CannotReadTheHostsFiles_AndHasNoNetwork()
    {
        var secret = Path.Combine(daemon.DataDir, "host-secret.txt");
        File.WriteAllText(secret, "host only");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = listener.AcceptSocketAsync();

        await daemon.CreateOkAsync("gv-probe", "python", Py("""
            import json, os, socket, sys
            event = json.load(open(sys.argv[1]))
            def connect(host, port):
                try:
                    socket.create_connection((host, port), timeout=2).close()
                    return "connected"
                except OSError as e:
                    return "failed: " + str(e)
            def readable(path):
                try:
                    open(path).read()
                    return True
                except OSError:
                    return False
            print(json.dumps({
                "secret": readable(event["secret"]), "dataDir": os.path.exists(event["dataDir"]),
                "root": os.path.exists("/root/.bashrc") or readable("/root/.bashrc"), "shadow": readable("/etc/shadow"),
                "loopback": connect("127.0.0.1", event["port"]), "internet": connect("1.1.1.1", 80),
                "interfaces": [name for _, name in socket.if_nameindex()],
                "uid": os.getuid(), "codeWritable": os.access("/code", os.W_OK),
            }))
            """), "main.py", new { isolation = "gvisor" });
        var result = await daemon.InvokeAsync("gv-probe", JsonSerializer.Serialize(new { secret, dataDir = daemon.DataDir, port }));
        Assert.Equal("success", (string?)result["status"]);
        var output = result["output"]!;
        Assert.False((bool)output["secret"]!, "the guest read a host file");
        Assert.False((bool)output["dataDir"]!, "the guest sees the daemon's data dir");
        Assert.False((bool)output["root"]!);
        Assert.False((bool)output["shadow"]!);
        Assert.StartsWith("failed", (string?)output["loopback"]);
        Assert.StartsWith("failed", (string?)output["internet"]);
        Assert.Equal(["lo"], output["interfaces"]!.AsArray().Select(n => (string?)n));
        Assert.Equal(65534, (int)output["uid"]!);
        Assert.False((bool)output["codeWritable"]!);
        await Task.Delay(200);
        Assert.False(accepted.IsCompleted, "the test's listener must never see a connection from the guest");
    }
}

/// <summary>A daemon whose runsc is missing (as on a machine that skipped the install script): it starts and stays
/// ready for sandbox functions; readiness names what gVisor lacks; registering a gvisor function is a 400 naming the
/// package. No gVisor is started, so this is not in the slow category.</summary>
public sealed class GvisorMissingTests(GvisorMissingTests.NoRunscDaemon daemon) : IClassFixture<GvisorMissingTests.NoRunscDaemon>
{
    public sealed class NoRunscDaemon : DaemonFixture
    {
        public override Task InitializeAsync() =>
            StartAsync(services => services.Configure<GvisorOptions>(o => o.RunscPath = "/nonexistent/runsc"));
    }

    [Fact]
    public async Task Register_IsolationGvisor_Is400NamingRunscAndItsInstallCommand()
    {
        using var response = await daemon.CreateAsync("gv-missing", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py", new { isolation = "gvisor" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var message = (string?)problem["errors"]!["isolation"]![0];
        Assert.Contains("runsc", message);
        Assert.Contains("apt-get install -y runsc", message);
        Assert.Equal(HttpStatusCode.NotFound, (await daemon.Client.GetAsync("/v1/functions/gv-missing")).StatusCode);
    }

    [Fact]
    public async Task Ready_Stays200_AndNamesWhatGvisorLacks()
    {
        using var response = await daemon.Client.GetAsync("/healthz/ready");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ready", (string?)body["status"]);
        Assert.Equal("ok", (string?)body["checks"]!["sandbox"]);
        Assert.Contains("apt-get install -y runsc", (string?)body["checks"]!["gvisor"]);
        await daemon.CreateOkAsync("sandbox-still-fine", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py");
    }

    [Fact]
    public async Task NoGvisorSparesAreTried_WhileNoFunctionUsesGvisor()
    {
        var templates = daemon.Services.GetRequiredService<Tern.Pools.WorkerTemplates>();
        for (var i = 0; i < 100 && templates.SpareCount("sandbox") < 2; i++) await Task.Delay(100);
        Assert.Equal(2, templates.SpareCount("sandbox"));
        Assert.Equal(2, templates.Attempts); // the sandbox's two; none for gvisor, whose runsc is missing anyway
    }
}

/// <summary>A daemon told to use systrap with a runsc that lacks it (Debian bookworm's): it starts, readiness stays 200
/// and says what is wrong and the fix, registering a gvisor function is a 400 with the same words. Nothing starts gVisor
/// (the check is one `runsc list`), so this is not in the slow category; it needs a root daemon, as gVisor does.</summary>
public sealed class GvisorUnsupportedPlatformTests(GvisorUnsupportedPlatformTests.BookwormSystrapDaemon daemon)
    : IClassFixture<GvisorUnsupportedPlatformTests.BookwormSystrapDaemon>
{
    public sealed class BookwormSystrapDaemon : DaemonFixture
    {
        public override Task InitializeAsync() => StartAsync(services => services.Configure<GvisorOptions>(o =>
        {
            o.RunscPath = GvisorOptions.DebianRunsc; // 0.0~20221219, as scripts/install-deps.sh installs it on bookworm
            o.Platform = "systrap";
        }));
    }

    private const string Expected = $"at {GvisorOptions.DebianRunsc} does not support the 'systrap' platform set by gvisor.platform (unknown platform: systrap)";

    [Fact]
    public async Task Register_IsolationGvisor_Is400NamingThePlatformAndTheFix()
    {
        using var response = await daemon.CreateAsync("gv-systrap", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py", new { isolation = "gvisor" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var message = (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!["isolation"]![0];
        Assert.Contains(Expected, message);
        Assert.Contains("scripts/install-deps.sh", message);
    }

    [Fact]
    public async Task Ready_Stays200_AndNamesThePlatformProblem()
    {
        using var response = await daemon.Client.GetAsync("/healthz/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var gvisor = (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["checks"]!["gvisor"];
        Assert.StartsWith("degraded: runsc 0.0~20221219.0 ", gvisor);
        Assert.Contains(Expected, gvisor);
        Assert.DoesNotContain("tern_gvisor_platform_info{", await daemon.Client.GetStringAsync("/metrics"));
    }
}
