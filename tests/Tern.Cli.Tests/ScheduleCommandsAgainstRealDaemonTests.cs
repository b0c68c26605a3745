using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Cli.Tests;

/// <summary>`tern schedule add|list|disable|remove` in-process against a real daemon.</summary>
public sealed class ScheduleCommandsAgainstRealDaemonTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private Task<CliRun> TernAsync(params string[] args) => CliHarness.RunAgainstAsync(daemon.BaseAddress, args);

    [Fact]
    public async Task AddListDisableRemove()
    {
        await daemon.CreateOkAsync("cli-sched", "python", Encoding.UTF8.GetBytes("print('{}')\n"), "main.py");
        var add = await TernAsync("schedule", "add", "cli-sched", "--cron", "*/5 * * * *", "--tz", "Europe/Paris", "-d", "{\"a\":1}", "-o", "json");
        Assert.True(add.ExitCode == 0, add.Stderr);
        var created = JsonNode.Parse(add.Stdout)!;
        var id = (string)created["id"]!;
        Assert.Equal("*/5 * * * *", (string?)created["expression"]);
        Assert.NotNull((string?)created["nextRunAt"]);

        var list = await TernAsync("schedule", "list", "cli-sched");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(id, list.Stdout);
        Assert.Contains("NEXT RUN", list.Stdout);

        var disable = await TernAsync("schedule", "disable", id, "-o", "json");
        Assert.Equal(0, disable.ExitCode);
        Assert.False((bool)JsonNode.Parse(disable.Stdout)!["enabled"]!);

        var bad = await TernAsync("schedule", "add", "cli-sched", "--every", "0s");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("at least 1s", bad.Stderr);

        var remove = await TernAsync("schedule", "remove", id);
        Assert.Equal(0, remove.ExitCode);
        Assert.DoesNotContain(id, (await TernAsync("schedule", "list")).Stdout);
    }
}
