using System.Text.Json.Nodes;
using Tern.Agent.Protocol;
using Tern.Testing;

namespace Tern.Runtimes.Tests;

/// <summary>The wasm runtime's fast cold start in real sandbox workers: a spare keeps a <c>tern-wasm-host --zygote</c>
/// waiting (engine made), which the first wasm call or Init adopts; the module precompiled by the daemon (WasmModules,
/// as registering does) is mounted read-only at /opt/tern/compiled and only deserialized; a precompiled file that is
/// missing or corrupt falls back to compiling in the worker.</summary>
public sealed class WasmZygoteTests
{
    private const string ZygoteTrace = "started ahead as a spare's zygote";
    private const string PrecompiledTrace = "module precompiled by the daemon: " + RuntimeCatalog.WasmCompiledDir + "/";

    private static InitMessage Init(string handler, string mode = "process", string runtime = "wasm")
    {
        var init = SandboxAgent.Init(runtime, handler, mode);
        init.MemoryMb = 128;
        init.Env["TERN_WASM_TRACE"] = "1";
        return init;
    }

    private static async Task<Dictionary<string, byte[]>> ExampleAsync(string artifact, string name) =>
        new() { [name] = await File.ReadAllBytesAsync(Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), artifact)) };

    private static string Message(RespMessage resp) => (string?)JsonNode.Parse(resp.Output!.Value.ToString())!["message"] ?? "";

    [Fact]
    public async Task ProcessMode_FromASpare_TheWaitingHostServesTheFirstCall_WithThePrecompiledModule()
    {
        await using var agent = await SandboxAgent.StartAsync(await ExampleAsync("wasm/hello.wasm", "module.wasm"), Init("module.wasm"),
            fromSpare: true, precompile: true);
        Assert.True(agent.InitResponse.Status == "success", agent.InitResponse.Error?.Message);
        Assert.Contains(agent.SpareProcesses, p => p.EndsWith("tern-wasm-host --zygote", StringComparison.Ordinal));

        var first = await agent.ExecAsync("""{"name":"spare"}""");
        var second = await agent.ExecAsync("""{"name":"again"}""");

        Assert.True(first.Status == "success", first.Error?.Message + first.StderrTail);
        Assert.Equal("Hello, spare!", Message(first));
        Assert.Contains(ZygoteTrace, first.StderrTail);
        Assert.Contains(PrecompiledTrace, first.StderrTail);
        Assert.DoesNotContain("module compiled", first.StderrTail);
        // Process mode: every later call is a fresh host, which finds the same precompiled module.
        Assert.True(second.Status == "success", second.Error?.Message + second.StderrTail);
        Assert.Equal("Hello, again!", Message(second));
        Assert.DoesNotContain(ZygoteTrace, second.StderrTail);
        Assert.Contains(PrecompiledTrace, second.StderrTail);
    }

    [Fact]
    public async Task PersistentMode_FromASpare_InitAdoptsTheWaitingHost()
    {
        await using var agent = await SandboxAgent.StartAsync(await ExampleAsync("persistent-wasm/echo.wasm", "echo.wasm"), Init("echo.wasm", "persistent"),
            fromSpare: true, precompile: true);
        Assert.True(agent.InitResponse.Status == "success", agent.InitResponse.Error?.Message);

        var handlers = agent.WorkerProcesses().Where(p => p.Contains(RuntimeCatalog.WasmHost)).ToList();
        var resp = await agent.ExecAsync("""{"n":7}""");

        // The one host is the spare's zygote (its command line says so); none was started with --stdio.
        Assert.Equal($"{RuntimeCatalog.WasmHost} --zygote", Assert.Single(handlers));
        Assert.True(resp.Status == "success", resp.Error?.Message);
        Assert.Equal(7, (int)JsonNode.Parse(resp.Output!.Value.ToString())!["n"]!);
    }

    [Fact]
    public async Task ASpareTakenByAnotherRuntime_StopsItsWasmZygote()
    {
        await using var agent = await SandboxAgent.StartAsync(
            new Dictionary<string, byte[]> { ["main.py"] = "import json, sys\nprint(json.dumps({'ok': True}))\n"u8.ToArray() },
            Init("main.py", runtime: "python"), fromSpare: true);
        Assert.True(agent.InitResponse.Status == "success", agent.InitResponse.Error?.Message);

        await Eventually.TrueAsync(() => !agent.WorkerProcesses().Any(p => p.Contains(RuntimeCatalog.WasmHost)), "the unused wasm zygote to exit");
        var resp = await agent.ExecAsync("{}");
        Assert.True(resp.Status == "success", resp.Error?.Message);
    }

    [Fact]
    public async Task CorruptPrecompiledModule_IsNotUsed_TheWorkerCompilesItself()
    {
        await using var agent = await SandboxAgent.StartAsync(await ExampleAsync("wasm/hello.wasm", "module.wasm"), Init("module.wasm"),
            precompile: true, beforeStart: written =>
            {
                var bytes = File.ReadAllBytes(written);
                bytes[^100] ^= 0xff; // one flipped byte in the compiled code
                File.WriteAllBytes(written, bytes);
            });

        var resp = await agent.ExecAsync("""{"name":"corrupt"}""");

        Assert.True(resp.Status == "success", resp.Error?.Message + resp.StderrTail);
        Assert.Equal("Hello, corrupt!", Message(resp));
        Assert.Contains("is corrupt: not used", resp.StderrTail);
        Assert.Contains("module compiled", resp.StderrTail);
    }

    [Fact]
    public async Task AbsentPrecompiledModule_FromASpare_TheWorkerCompilesItself()
    {
        await using var agent = await SandboxAgent.StartAsync(await ExampleAsync("wasm/hello.wasm", "module.wasm"), Init("module.wasm"),
            fromSpare: true, precompile: true, beforeStart: File.Delete);

        var resp = await agent.ExecAsync("""{"name":"absent"}""");

        Assert.True(resp.Status == "success", resp.Error?.Message + resp.StderrTail);
        Assert.Equal("Hello, absent!", Message(resp));
        Assert.Contains(ZygoteTrace, resp.StderrTail);
        Assert.Contains("no precompiled file " + RuntimeCatalog.WasmCompiledDir + "/", resp.StderrTail);
        Assert.Contains("module compiled", resp.StderrTail);
    }
}
