using System.Text;
using System.Text.Json.Nodes;
using Tern.Agent.Protocol;
using Tern.Testing;

namespace Tern.Runtimes.Tests;

/// <summary>Process-mode wasm calls answered from the end of the module (the host's end-of-call trailer), not from the
/// host process's exit, in real sandbox workers started as spares: the whole stdout, the exit code and stderr still
/// arrive, a module cannot forge the end, every call is a fresh instance, and the spare's unused Python zygote goes.</summary>
public sealed class WasmEndOfCallTests
{
    private const string Trailer = "tern-end-of-call";

    private static InitMessage Init(string handler)
    {
        var init = SandboxAgent.Init("wasm", handler, "process");
        init.MemoryMb = 128;
        return init;
    }

    private static Task<SandboxAgent> SpareAsync(string wat) =>
        SandboxAgent.StartAsync(new Dictionary<string, byte[]> { ["module.wasm"] = WatModules.Compile(wat) }, Init("module.wasm"),
            fromSpare: true, precompile: true);

    [Fact]
    public async Task FromASpare_AStdoutOfManyWrites_ArrivesWhole()
    {
        await using var agent = await SpareAsync(WatModules.LongString);
        Assert.True(agent.InitResponse.Status == "success", agent.InitResponse.Error?.Message);

        var resp = await agent.ExecAsync("{}");

        Assert.True(resp.Status == "success", resp.Error?.Message + resp.StderrTail);
        var text = (string?)JsonNode.Parse(resp.Output!.Value.ToString());
        Assert.Equal(WatModules.LongStringLength, text!.Length);
        Assert.All(text, c => Assert.Equal('a', c));
        Assert.DoesNotContain(Trailer, resp.StderrTail ?? "");
    }

    [Fact]
    public async Task FromASpare_ProcExitWithACode_IsAHandlerErrorWithThatCodeAndItsStderr()
    {
        await using var agent = await SpareAsync(WatModules.StderrThenExit(3, forgedTrailer: false));

        var resp = await agent.ExecAsync("{}");

        Assert.Equal("error", resp.Status);
        Assert.Equal("HandlerFailed", resp.Error?.Code);
        Assert.Equal("handler exited with code 3: boom", resp.Error?.Message);
        Assert.Equal("boom\n", resp.StderrTail);
    }

    [Fact]
    public async Task AModuleThatWritesAForgedTrailer_StillGetsItsOwnExitCode()
    {
        // The module ends its stderr with a trailer claiming success, then exits 7: without the call's token (given
        // only on the host's command line) it cannot end the call for the host.
        await using var agent = await SpareAsync(WatModules.StderrThenExit(7, forgedTrailer: true));

        var resp = await agent.ExecAsync("{}");

        Assert.Equal("error", resp.Status);
        Assert.StartsWith("handler exited with code 7", resp.Error?.Message);
        Assert.Contains(Trailer + ":00000000000000000000000000000000:0", resp.StderrTail);
    }

    [Fact]
    public async Task EveryCall_IsAFreshInstance_TheZygotesFirstAndAFreshHostsNext()
    {
        await using var agent = await SpareAsync(WatModules.Counter);

        var first = await agent.ExecAsync("{}");
        var second = await agent.ExecAsync("{}");
        var third = await agent.ExecAsync("{}");

        // The counter lives in the module's memory and starts at 0 in every instance.
        foreach (var resp in new[] { first, second, third })
        {
            Assert.True(resp.Status == "success", resp.Error?.Message + resp.StderrTail);
            Assert.Equal("1", resp.Output!.Value.ToString());
        }
        // The hosts that reported their end are reaped after the answers: none is left running.
        await Eventually.TrueAsync(() => !agent.WorkerProcesses().Any(p => p.Contains(RuntimeCatalog.WasmHost)), "the finished hosts to be reaped");
    }

    [Fact]
    public async Task ASpareTakenByWasm_StopsItsPythonZygote()
    {
        await using var agent = await SpareAsync(WatModules.Counter);
        Assert.Contains(agent.SpareProcesses, p => p.Contains("python3"));

        var resp = await agent.ExecAsync("{}");

        Assert.True(resp.Status == "success", resp.Error?.Message + resp.StderrTail);
        await Eventually.TrueAsync(() => !agent.WorkerProcesses().Any(p => p.Contains("python3")), "the unused Python zygote to exit");
        Assert.Equal("1", (await agent.ExecAsync("{}")).Output!.Value.ToString());
    }
}
