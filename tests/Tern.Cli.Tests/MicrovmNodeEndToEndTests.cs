using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tern.Drivers.Microvm;
using Tern.Testing;

namespace Tern.Cli.Tests;

/// <summary>A daemon whose microVM driver reads the node image `tern images build node` wrote into the images directory
/// the Python tests use (kept between runs; the build is content-addressed).</summary>
public sealed class MicrovmNodeDaemon : DaemonFixture
{
    internal CliRun Build { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await new CliApp(stdout, stderr, null, null, _ => null).RunAsync(["images", "build", "node", "--images-dir", MicrovmDaemon.ImagesDir]);
        Build = new CliRun(exit, stdout.ToString(), stderr.ToString());
        await StartAsync(services => services.Configure<MicrovmOptions>(o => o.ImagesDir = MicrovmDaemon.ImagesDir));
    }
}

/// <summary>A Node function with isolation microvm, from `tern images build node` to a call restored from the snapshot:
/// the node recipe puts the host's node binary (and its libraries) in the guest beside the agent. Category "microvm".</summary>
[Trait("Category", "microvm")]
public sealed class MicrovmNodeEndToEndTests(MicrovmNodeDaemon daemon) : IClassFixture<MicrovmNodeDaemon>
{
    private const string Handler = """
        const fs = require("fs"), os = require("os");
        exports.handler = async (event) => ({
            name: event.name, pid: process.pid, node: process.version, kernel: os.release(),
            interfaces: fs.readFileSync("/proc/net/dev", "utf8").split("\n").slice(2).filter(l => l.includes(":")).map(l => l.split(":")[0].trim()),
            uid: process.getuid(), now: Date.now(),
            hostFile: fs.existsSync(event.marker || "/nonexistent"),
        });
        """;

    [Fact]
    public async Task NodeFunction_ColdWarmEvictRestore_RunsTheHostsNodeInTheGuest()
    {
        Assert.True(daemon.Build.ExitCode == 0, daemon.Build.Stderr + daemon.Build.Stdout);
        Assert.Contains("node: ", daemon.Build.Stdout);
        var marker = Path.Combine(Path.GetTempPath(), "tern-mv-node-marker-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(marker, "host only");
        try
        {
            await daemon.CreateOkAsync("mv-node", "node", Encoding.UTF8.GetBytes(Handler), "index.js",
                new { mode = "persistent", handler = "index.handler", isolation = "microvm", timeoutMs = 120_000 });

            var cold = await daemon.InvokeAsync("mv-node", JsonSerializer.Serialize(new { name = "cold", marker }));
            Assert.True((string?)cold["status"] == "success", cold.ToJsonString());
            Assert.True((bool)cold["coldStart"]!);
            var output = cold["output"]!;
            Assert.Equal("cold", (string?)output["name"]);
            Assert.Equal(HostNodeVersion(), (string?)output["node"]); // the host's node, copied into the image
            Assert.Contains("cloud-amd64", (string?)output["kernel"]);
            Assert.Equal(["lo"], output["interfaces"]!.AsArray().Select(n => (string?)n));
            Assert.False((bool)output["hostFile"]!, "the guest saw a file of the host's /tmp");
            Assert.Equal(65534, (int)output["uid"]!);

            var warm = await daemon.InvokeAsync("mv-node", """{"name":"warm"}""");
            Assert.Equal("success", (string?)warm["status"]);
            Assert.False((bool)warm["coldStart"]!);
            Assert.Equal((int)output["pid"]!, (int)warm["output"]!["pid"]!);

            await daemon.Services.GetRequiredService<Tern.Pools.PoolManager>().CloseAllAsync();
            var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var restored = await daemon.InvokeAsync("mv-node", """{"name":"restored"}""");
            var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Assert.True((string?)restored["status"] == "success", restored.ToJsonString());
            Assert.True((bool)restored["coldStart"]!);
            Assert.Equal("restored", (string?)restored["output"]!["name"]);
            Assert.InRange((long)restored["output"]!["now"]!, before - 25, after + 25); // the restored guest's clock is the host's

            var metrics = await daemon.Client.GetStringAsync("/metrics");
            Assert.Contains("tern_microvm_restore_seconds_count{accelerator=\"tcg\"} 1", metrics);
        }
        finally
        {
            File.Delete(marker);
        }
    }

    private static string HostNodeVersion()
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/node", "--version")
        {
            RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        var version = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return version;
    }
}
