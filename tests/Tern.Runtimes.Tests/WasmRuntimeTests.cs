using System.Text;
using System.Text.Json.Nodes;
using Tern.Agent.Protocol;
using Tern.Testing;

namespace Tern.Runtimes.Tests;

/// <summary>The wasm runtime on Wasmtime (tern-wasm-host) in real sandbox workers, driven over the agent protocol:
/// the compiled-module cache, deadlines by epoch interruption, the memory limit, persistent mode, bad modules.</summary>
public sealed class WasmRuntimeTests
{
    private static InitMessage Init(string handler, string mode = "process", int memoryMb = 128, int timeoutMs = 10_000,
        int instanceConcurrency = 1, bool trace = false)
    {
        var init = SandboxAgent.Init("wasm", handler, mode, timeoutMs, instanceConcurrency);
        init.MemoryMb = memoryMb;
        if (trace) init.Env["TERN_WASM_TRACE"] = "1";
        return init;
    }

    private static Dictionary<string, byte[]> Files(string name, byte[] bytes) => new() { [name] = bytes };

    private static async Task<Dictionary<string, byte[]>> ExampleAsync(string artifact, string name) =>
        new() { [name] = await File.ReadAllBytesAsync(Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), artifact)) };

    [Fact]
    public async Task ProcessMode_SecondCallOfAWorker_UsesTheCompiledModuleFromTheCache()
    {
        await using var agent = await SandboxAgent.StartAsync(await ExampleAsync("wasm/hello.wasm", "module.wasm"), Init("module.wasm", trace: true));
        Assert.Equal("success", agent.InitResponse.Status);

        var first = await agent.ExecAsync("""{"name":"one"}""");
        var second = await agent.ExecAsync("""{"name":"two"}""");

        Assert.True(first.Status == "success", first.Error?.Message);
        Assert.Equal("Hello, one!", (string?)JsonNode.Parse(first.Output!.Value.ToString())!["message"]);
        Assert.Contains("module compiled", first.StderrTail);
        Assert.DoesNotContain("from cache", first.StderrTail);
        Assert.True(second.Status == "success", second.Error?.Message);
        Assert.Equal("Hello, two!", (string?)JsonNode.Parse(second.Output!.Value.ToString())!["message"]);
        Assert.Contains("module from cache", second.StderrTail);
        Assert.DoesNotContain("module compiled", second.StderrTail);
    }

    [Fact]
    public async Task ProcessMode_ModuleRunsPastItsTimeout_IsStoppedByEpochInterruption_AndReportedAsTimeout()
    {
        await using var agent = await SandboxAgent.StartAsync(Files("spin.wasm", WatModules.Compile(WatModules.Spin)), Init("spin.wasm"));

        var started = DateTime.UtcNow;
        var resp = await agent.ExecAsync("{}", timeoutMs: 700);
        var elapsed = DateTime.UtcNow - started;

        Assert.Equal("timeout", resp.Status);
        Assert.Equal("Timeout", resp.Error?.Code);
        // The host stopped the module itself (epoch interruption) and said so; the agent's kill is only the backstop.
        Assert.Contains("interrupted at the call's deadline", resp.StderrTail);
        Assert.InRange(elapsed, TimeSpan.FromMilliseconds(650), TimeSpan.FromSeconds(5));

        // The worker serves the next call.
        var again = await agent.ExecAsync("{}", timeoutMs: 300);
        Assert.Equal("timeout", again.Status);
    }

    [Fact]
    public async Task ProcessMode_MemoryGrowthBeyondMemoryMb_FailsInsideTheModule_WithinItSucceeds()
    {
        await using var agent = await SandboxAgent.StartAsync(Files("grow.wasm", WatModules.Compile(WatModules.GrowMemory)), Init("grow.wasm", memoryMb: 128));

        var resp = await agent.ExecAsync("{}");

        Assert.True(resp.Status == "success", resp.Error?.Message + resp.StderrTail);
        var output = JsonNode.Parse(resp.Output!.Value.ToString())!;
        Assert.Equal(0, (int)output["grew128"]!); // 64 KiB + 128 MiB is over the function's 128 MB
        Assert.Equal(1, (int)output["grew64"]!);
    }

    [Fact]
    public async Task ProcessMode_InitialMemoryOverMemoryMb_IsAClearHandlerError()
    {
        await using var agent = await SandboxAgent.StartAsync(Files("big.wasm", WatModules.Compile(WatModules.HugeInitialMemory)), Init("big.wasm", memoryMb: 128));

        var resp = await agent.ExecAsync("{}");

        Assert.Equal("error", resp.Status);
        Assert.Equal("HandlerFailed", resp.Error?.Code);
        Assert.Contains("cannot instantiate the module", resp.Error?.Message);
        Assert.Contains("memory", resp.Error?.Message);
    }

    [Fact]
    public async Task ProcessMode_InvalidModule_IsAClearHandlerError()
    {
        await using var agent = await SandboxAgent.StartAsync(Files("module.wasm", Encoding.UTF8.GetBytes("print('not wasm')\n")), Init("module.wasm"));

        var resp = await agent.ExecAsync("{}");

        Assert.Equal("error", resp.Status);
        Assert.Equal("HandlerFailed", resp.Error?.Code);
        Assert.Contains("/code/module.wasm is not a valid WebAssembly module", resp.Error?.Message);
    }

    [Fact]
    public async Task PersistentMode_InvalidModule_FailsInitWithHandlerLoadFailed()
    {
        await using var agent = await SandboxAgent.StartAsync(Files("module.wasm", [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0xff]),
            Init("module.wasm", mode: "persistent"));

        Assert.Equal("error", agent.InitResponse.Status);
        Assert.Equal("HandlerLoadFailed", agent.InitResponse.Error?.Code);
        Assert.Contains("WasmLoadError: /code/module.wasm is not a valid WebAssembly module", agent.InitResponse.Error?.Message);
    }

    [Fact]
    public async Task PersistentMode_LineProtocolExample_OneInstanceServesManyCalls_ConcurrentlyToo()
    {
        await using var agent = await SandboxAgent.StartAsync(await ExampleAsync("persistent-wasm/echo.wasm", "echo.wasm"),
            Init("echo.wasm", mode: "persistent", instanceConcurrency: 4, trace: true));
        Assert.True(agent.InitResponse.Status == "success", agent.InitResponse.Error?.Message);

        for (var i = 0; i < 3; i++)
        {
            var resp = await agent.ExecAsync($$"""{"n":{{i}},"s":"a \"quoted\" ,\"context\":{ text"}""");
            Assert.True(resp.Status == "success", resp.Error?.Message);
            Assert.Equal(i, (int)JsonNode.Parse(resp.Output!.Value.ToString())!["n"]!);
            Assert.Equal("a \"quoted\" ,\"context\":{ text", (string?)JsonNode.Parse(resp.Output!.Value.ToString())!["s"]);
        }
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => agent.ExecAsync($$"""{"c":{{i}}}""")));
        for (var i = 0; i < 8; i++) Assert.Equal(i, (int)JsonNode.Parse(concurrent[i].Output!.Value.ToString())!["c"]!);
    }

    [Fact]
    public async Task PersistentMode_StuckCall_IsTimeout_AndTheWorkerLoadsAFreshInstance()
    {
        // Says ready, then never answers. In persistent mode the deadline is the agent's (the host does not read the
        // protocol): it answers "timeout", kills the host, and the next call loads a new one.
        await using var agent = await SandboxAgent.StartAsync(Files("stuck.wasm", WatModules.Compile(WatModules.ReadyThenSpin)),
            Init("stuck.wasm", mode: "persistent"));
        Assert.True(agent.InitResponse.Status == "success", agent.InitResponse.Error?.Message);

        var first = await agent.ExecAsync("{}", timeoutMs: 500);
        var second = await agent.ExecAsync("{}", timeoutMs: 500);

        Assert.Equal("Timeout", first.Error?.Code);
        Assert.Equal("Timeout", second.Error?.Code);
        Assert.Contains("exceeded its timeout of 500 ms", second.Error?.Message);
    }
}
