using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tern.Drivers.Sandbox;
using Tern.Runtimes;
using Tern.Testing;

namespace Tern.Api.Tests.Wasm;

/// <summary>The wasm runtime through the real daemon: registering a wasm function compiles its module once, beside the
/// code (code/{hash}.compiled/), and a cold start from one of the daemon's spares runs it in the spare's waiting host
/// (its zygote), which deserializes that file from /opt/tern/compiled.</summary>
public sealed class WasmDaemonTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    [Fact]
    public async Task Register_PrecompilesTheModule_AndAColdStartFromASpareRunsItInTheZygote()
    {
        var module = await File.ReadAllBytesAsync(Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), "wasm", "hello.wasm"));
        var templates = daemon.Services.GetRequiredService<Tern.Pools.WorkerTemplates>();
        await Eventually.TrueAsync(() => templates.SpareCount("sandbox") >= 1, "a spare worker", 30_000);

        await daemon.CreateOkAsync("wasm-spare", "wasm", module, "module.wasm", new { env = new Dictionary<string, string> { ["TERN_WASM_TRACE"] = "1" } });
        var function = JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/functions/wasm-spare"))!;
        var compiledDir = Path.Combine(daemon.DataDir, "code", (string)function["codeHash"]! + ".compiled");
        var compiled = Assert.Single(Directory.GetFiles(compiledDir, "*.cwasm"));

        var result = await daemon.InvokeAsync("wasm-spare", """{"name":"spare"}""");

        Assert.True((string?)result["status"] == "success", result.ToJsonString());
        Assert.Equal("Hello, spare!", (string?)result["output"]!["message"]);
        Assert.True((bool)result["coldStart"]!);
        var executionId = (string)result["executionId"]!;
        string[] stderr = [];
        await Eventually.TrueAsync(async () =>
        {
            var logs = JsonNode.Parse(await daemon.Client.GetStringAsync($"/v1/functions/wasm-spare/logs?executionId={executionId}"))!;
            stderr = [.. logs["lines"]!.AsArray().Where(l => (string?)l!["stream"] == "stderr").Select(l => (string)l!["text"]!)];
            return stderr.Length > 0;
        }, "the call's stderr lines in the logs", 10_000);
        Assert.Contains(stderr, line => line.Contains("started ahead as a spare's zygote"));
        Assert.Contains(stderr, line => line.Contains($"module precompiled by the daemon: {RuntimeCatalog.WasmCompiledDir}/{Path.GetFileName(compiled)}"));
    }
}

/// <summary>A daemon whose wasm host is missing (runtime assets built without it, or pointed elsewhere): it stays ready
/// for everything else, readiness names what the wasm runtime lacks, and registering a wasm function is a 400 that says
/// what is missing and how to build it; nothing retries or spins.</summary>
public sealed class WasmHostMissingTests(WasmHostMissingTests.NoWasmHostDaemon daemon) : IClassFixture<WasmHostMissingTests.NoWasmHostDaemon>
{
    public sealed class NoWasmHostDaemon : DaemonFixture
    {
        public string EmptyAssets { get; } = Path.Combine(Path.GetTempPath(), "tern-no-wasm-host-" + Guid.NewGuid().ToString("N"));

        public override Task InitializeAsync()
        {
            Directory.CreateDirectory(EmptyAssets);
            return StartAsync(services => services.Configure<SandboxOptions>(o => o.RuntimeAssetsDir = EmptyAssets));
        }

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();
            Directory.Delete(EmptyAssets, recursive: true);
        }
    }

    [Fact]
    public async Task Register_Wasm_Is400NamingTheMissingHostAndHowToBuildIt()
    {
        using var response = await daemon.CreateAsync("wasm-no-host", "wasm", [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], "module.wasm");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var message = (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!["runtime"]![0];
        Assert.Contains($"the wasm runtime's host is missing at {daemon.EmptyAssets}/wasm/tern-wasm-host", message);
        Assert.Contains("./tern --help", message);
        Assert.Equal(HttpStatusCode.NotFound, (await daemon.Client.GetAsync("/v1/functions/wasm-no-host")).StatusCode);
    }

    [Fact]
    public async Task Ready_Stays200_AndItsWasmCheckNamesTheMissingHost()
    {
        using var response = await daemon.Client.GetAsync("/healthz/ready");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ready", (string?)body["status"]);
        Assert.Contains("tern-wasm-host", (string?)body["checks"]!["wasm"]);
        await daemon.CreateOkAsync("python-still-fine", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py");
    }
}
