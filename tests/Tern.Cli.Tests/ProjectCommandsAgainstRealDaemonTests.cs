using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Cli.Tests;

/// <summary>`tern init` + `tern apply` in-process against a real daemon: create, idempotent re-apply, update.</summary>
public sealed class ProjectCommandsAgainstRealDaemonTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>, IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<CliRun> TernAsync(params string[] args) => CliHarness.RunAgainstAsync(daemon.BaseAddress, args);

    [Fact]
    public async Task InitApplyInvoke_ReapplyIsNoOp_EditedYamlUpdates()
    {
        var folder = Path.Combine(_dir.Path, "proj-hello");
        var init = await TernAsync("init", "proj-hello", "--runtime", "python", "--dir", folder);
        Assert.True(init.ExitCode == 0, init.Stderr);
        var yaml = Path.Combine(folder, "tern.yaml");

        var applied = await TernAsync("apply", "-f", yaml);
        Assert.True(applied.ExitCode == 0, applied.Stderr);
        Assert.Equal("+ function proj-hello\n", applied.Stdout);

        var invoked = await TernAsync("invoke", "proj-hello", "-d", "{\"name\":\"yaml\"}");
        Assert.True(invoked.ExitCode == 0, invoked.Stderr);
        Assert.Equal("Hello, yaml!", (string?)JsonNode.Parse(invoked.Stdout)!["message"]);

        var before = JsonNode.Parse((await TernAsync("get", "proj-hello", "-o", "json")).Stdout)!;
        var again = await TernAsync("apply", "-f", yaml);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal("= function proj-hello\n", again.Stdout);
        var after = JsonNode.Parse((await TernAsync("get", "proj-hello", "-o", "json")).Stdout)!;
        Assert.Equal((int)before["version"]!, (int)after["version"]!);

        File.WriteAllText(yaml, File.ReadAllText(yaml).Replace("memoryMb: 128", "memoryMb: 256"));
        var updated = await TernAsync("apply", "-f", yaml);
        Assert.True(updated.ExitCode == 0, updated.Stderr);
        Assert.Equal("~ function proj-hello: memoryMb 128 -> 256\n", updated.Stdout);
        var final = JsonNode.Parse((await TernAsync("get", "proj-hello", "-o", "json")).Stdout)!;
        Assert.Equal(256, (int)final["memoryMb"]!);
        Assert.True((int)final["version"]! > (int)after["version"]!);
    }
}
