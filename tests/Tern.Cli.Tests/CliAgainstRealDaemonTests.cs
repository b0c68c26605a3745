using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Cli.Tests;

/// <summary>The CLI in-process against a real daemon (Kestrel, SQLite, bubblewrap): the whole user path.</summary>
public sealed class CliAgainstRealDaemonTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private Task<CliRun> TernAsync(params string[] args) => CliHarness.RunAgainstAsync(daemon.BaseAddress, args);

    [Fact]
    public async Task CreateInvokeGetDelete_PythonExample_Works()
    {
        var code = Path.Combine(RepoPaths.Root, "examples", "python", "main.py");
        var created = await TernAsync("create", "cli-hello", "--runtime", "python", "--code", code, "--memory", "256");
        Assert.True(created.ExitCode == 0, created.Stderr);

        var invoked = await TernAsync("invoke", "cli-hello", "-d", "{\"name\":\"x\"}");
        Assert.True(invoked.ExitCode == 0, invoked.Stderr);
        var output = JsonNode.Parse(invoked.Stdout)!;
        Assert.Equal("Hello, x!", (string?)output["message"]);

        var got = await TernAsync("get", "cli-hello", "-o", "json");
        Assert.Equal(256, (int)JsonNode.Parse(got.Stdout)!["memoryMb"]!);

        var updated = await TernAsync("update", "cli-hello", "--instance-concurrency", "3", "--mode", "process");
        Assert.True(updated.ExitCode == 0, updated.Stderr);
        Assert.Equal(3, (int)JsonNode.Parse((await TernAsync("get", "cli-hello", "-o", "json")).Stdout)!["instanceConcurrency"]!);

        var listed = await TernAsync("list");
        Assert.Contains("cli-hello", listed.Stdout);

        Assert.Equal(0, (await TernAsync("delete", "cli-hello")).ExitCode);
        var missing = await TernAsync("invoke", "cli-hello");
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("error: ", missing.Stderr);
        Assert.Contains("does not exist", missing.Stderr);
    }

    [Fact]
    public async Task Create_Directory_IsZippedAndHandlerFound()
    {
        var dir = Path.Combine(RepoPaths.Root, "examples", "node");
        var created = await TernAsync("create", "cli-node", "--runtime", "node", "--code", dir, "--handler", "index.js");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var invoked = await TernAsync("invoke", "cli-node", "-d", "{\"name\":\"dir\"}", "-o", "json");
        var response = JsonNode.Parse(invoked.Stdout)!;
        Assert.Equal("success", (string?)response["status"]);
        Assert.Equal("Hello, dir!", (string?)response["output"]!["message"]);
    }

    [Fact]
    public async Task Create_UnknownRuntime_PrintsOneErrorLineAndExits1()
    {
        var code = Path.Combine(RepoPaths.Root, "examples", "python", "main.py");
        var result = await TernAsync("create", "cli-bad", "--runtime", "cobol", "--code", code);
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains("runtime", result.Stderr);
    }
}
