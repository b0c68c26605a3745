using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Tern.Drivers.Microvm;
using Tern.Testing;

namespace Tern.Cli.Tests;

/// <summary>A daemon whose microVM driver reads the images `tern images build python` wrote (the images directory is
/// kept between runs, as a user's is: the build is content-addressed, so a second run only confirms it).</summary>
public sealed class MicrovmDaemon : DaemonFixture
{
    public static readonly string ImagesDir = Path.Combine(Path.GetTempPath(), "tern-test-microvm-images");

    internal CliRun Build { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await new CliApp(stdout, stderr, null, null, _ => null).RunAsync(["images", "build", "python", "--images-dir", ImagesDir]);
        Build = new CliRun(exit, stdout.ToString(), stderr.ToString());
        await StartAsync(services => services.Configure<MicrovmOptions>(o => o.ImagesDir = ImagesDir));
    }
}

/// <summary>A Python function with isolation microvm through the CLI and the real daemon: QEMU (TCG on this machine kind:
/// its /dev/kvm is missing or paravirtual), the image built by `tern images build`, the agent as the guest's PID 1. Cold
/// boot, warm call, pool evicted, then a cold start restored from the snapshot the first boot saved, faster than the boot.
/// Category "microvm": every boot costs seconds of CPU; a quick local run can leave it out, CI runs it.</summary>
[Trait("Category", "microvm")]
public sealed class MicrovmEndToEndTests(MicrovmDaemon daemon) : IClassFixture<MicrovmDaemon>
{
    private Task<CliRun> TernAsync(params string[] args) => CliHarness.RunAgainstAsync(daemon.BaseAddress, args);

    private const string Probe = """
        import json, os, socket
        def handler(event, context):
            def readable(path):
                try:
                    open(path).read()
                    return True
                except OSError:
                    return False
            def connect(host, port):
                try:
                    socket.create_connection((host, port), timeout=2).close()
                    return "connected"
                except OSError as e:
                    return "failed: " + str(e)
            return {"name": event.get("name"), "pid": os.getpid(), "kernel": os.uname().release,
                    "interfaces": [n for _, n in socket.if_nameindex()], "marker": readable(event.get("marker", "/nonexistent")),
                    "internet": connect("1.1.1.1", 80), "uid": os.getuid()}
        """;

    [Fact]
    public async Task PythonFunction_ColdWarmEvictRestore_RestoreIsFasterThanBoot_GuestSeesNoHostFilesAndNoNetwork()
    {
        Assert.True(daemon.Build.ExitCode == 0, daemon.Build.Stderr + daemon.Build.Stdout);
        Assert.Contains("python: ", daemon.Build.Stdout);
        var marker = Path.Combine(Path.GetTempPath(), "tern-mv-e2e-marker-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(marker, "host only");
        try
        {
            await daemon.CreateOkAsync("mv-hello", "python", Encoding.UTF8.GetBytes(Probe), "lambda_function.py",
                new { mode = "persistent", handler = "lambda_function.handler", isolation = "microvm", timeoutMs = 120_000 });
            var got = await TernAsync("get", "mv-hello", "-o", "json");
            Assert.Equal("microvm", (string?)JsonNode.Parse(got.Stdout)!["isolation"]);

            var input = JsonSerializer.Serialize(new { name = "cold", marker });
            var cold = await daemon.InvokeAsync("mv-hello", input);
            Assert.True((string?)cold["status"] == "success", cold.ToJsonString());
            Assert.True((bool)cold["coldStart"]!);
            var output = cold["output"]!;
            Assert.Equal("cold", (string?)output["name"]);
            Assert.Contains("cloud-amd64", (string?)output["kernel"]); // the guest's own kernel, not the host's
            Assert.NotEqual(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), (string?)output["kernel"]);
            Assert.Equal(["lo"], output["interfaces"]!.AsArray().Select(n => (string?)n));
            Assert.False((bool)output["marker"]!, "the guest read a file of the host's /tmp");
            Assert.StartsWith("failed", (string?)output["internet"]);
            Assert.Equal(65534, (int)output["uid"]!);

            var warm = await daemon.InvokeAsync("mv-hello", """{"name":"warm"}""");
            Assert.Equal("success", (string?)warm["status"]);
            Assert.False((bool)warm["coldStart"]!);
            Assert.Equal((int)output["pid"]!, (int)warm["output"]!["pid"]!); // the same handler process in the same VM

            var listed = await TernAsync("snapshot", "list", "mv-hello", "-o", "json");
            Assert.True(listed.ExitCode == 0, listed.Stderr);
            Assert.Single(JsonNode.Parse(listed.Stdout)!["snapshots"]!.AsArray());

            // Evict: every pool closes, its VMs are killed; the next call is a cold start again.
            await daemon.Services.GetRequiredService<Tern.Pools.PoolManager>().CloseAllAsync();
            var restored = await daemon.InvokeAsync("mv-hello", """{"name":"restored"}""");
            Assert.True((string?)restored["status"] == "success", restored.ToJsonString());
            Assert.True((bool)restored["coldStart"]!);
            Assert.Equal("restored", (string?)restored["output"]!["name"]);

            var metrics = await daemon.Client.GetStringAsync("/metrics");
            var (bootCount, bootSum) = Histogram(metrics, "tern_microvm_boot_seconds", "tcg");
            var (restoreCount, restoreSum) = Histogram(metrics, "tern_microvm_restore_seconds", "tcg");
            Assert.Equal(1, bootCount);
            Assert.Equal(1, restoreCount);
            Assert.True(restoreSum < bootSum, $"restore {restoreSum:0.000} s is not faster than the cold boot {bootSum:0.000} s");
            Assert.Contains("tern_microvm_accelerator_info{accelerator=\"tcg\"} 1", metrics);
            Assert.Contains("tern_microvm_snapshot_save_seconds_count{accelerator=\"tcg\"} 1", metrics);

            var ready = JsonNode.Parse(await daemon.Client.GetStringAsync("/healthz/ready"))!;
            Assert.StartsWith("ok: accelerator tcg", (string?)ready["checks"]!["microvm"]);
            var status = await TernAsync("status");
            Assert.True(status.ExitCode == 0, status.Stderr);
            Assert.Matches(@"microvm\s+ok: accelerator tcg", status.Stdout);

            // tern snapshot delete, then create: a snapshot made on demand.
            var deleted = await TernAsync("snapshot", "delete", "mv-hello");
            Assert.True(deleted.ExitCode == 0, deleted.Stderr);
            Assert.Contains("deleted 1 snapshot", deleted.Stdout);
            var created = await TernAsync("snapshot", "create", "mv-hello");
            Assert.True(created.ExitCode == 0, created.Stderr);
            Assert.Contains("(tcg)", created.Stdout);
            var table = await TernAsync("snapshot", "list", "mv-hello");
            Assert.Contains("tcg", table.Stdout);
        }
        finally
        {
            File.Delete(marker);
        }
    }

    /// <summary>A histogram's _count and _sum for one accelerator label from the Prometheus text.</summary>
    private static (long Count, double Sum) Histogram(string metrics, string name, string accelerator)
    {
        var count = Regex.Match(metrics, $"^{name}_count\\{{accelerator=\"{accelerator}\"\\}} (\\S+)$", RegexOptions.Multiline);
        var sum = Regex.Match(metrics, $"^{name}_sum\\{{accelerator=\"{accelerator}\"\\}} (\\S+)$", RegexOptions.Multiline);
        Assert.True(count.Success && sum.Success, $"no {name} for {accelerator} in /metrics");
        return (long.Parse(count.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(sum.Groups[1].Value, CultureInfo.InvariantCulture));
    }
}

/// <summary>Without QEMU (or without an image) the daemon still starts and serves sandbox functions; readiness names
/// what microvm lacks; registering a microvm function is a 400 naming the missing piece and the command that fixes it.
/// No VM is started, so this is not in the slow category.</summary>
public sealed class MicrovmMissingTests
{
    private sealed class Daemon(Action<MicrovmOptions> configure) : DaemonFixture
    {
        public override Task InitializeAsync() => StartAsync(services => services.Configure(configure));
    }

    [Theory]
    [InlineData("/nonexistent/qemu-system-x86_64", null, "apt-get install -y qemu-system-x86")]
    [InlineData(null, "no-images", "tern images build python")]
    public async Task Register_IsolationMicrovm_Is400NamingWhatIsMissing_AndReadinessSaysSo(string? qemu, string? images, string fix)
    {
        var daemon = new Daemon(o =>
        {
            if (qemu is not null) o.QemuPath = qemu;
            o.ImagesDir = images is null ? MicrovmDaemon.ImagesDir : Path.Combine(Path.GetTempPath(), "tern-no-images-" + Guid.NewGuid().ToString("N"));
        });
        await daemon.InitializeAsync();
        try
        {
            using var response = await daemon.CreateAsync("mv-missing", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py", new { isolation = "microvm" });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Contains(fix, (string?)problem["errors"]!["isolation"]![0]);

            using var ready = await daemon.Client.GetAsync("/healthz/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
            Assert.Equal("ready", (string?)body["status"]);
            Assert.Contains(fix, (string?)body["checks"]!["microvm"]);
            await daemon.CreateOkAsync("sandbox-still-fine", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py");
        }
        finally
        {
            await daemon.DisposeAsync();
        }
    }
}
