using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Cli.Tests;

/// <summary>`tern logs` (stored lines, and -f following) against a real daemon.</summary>
public sealed class CliLogsAgainstRealDaemonTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static readonly byte[] Logger = Encoding.UTF8.GetBytes(
        "import json, sys\nprint('working ' + sys.argv[1][-4:], file=sys.stderr)\nprint(json.dumps({'ok': True}))\n");

    private Task<CliRun> TernAsync(CancellationToken ct, params string[] args) => CliHarness.RunAgainstAsync(daemon.BaseAddress, args, ct);

    [Fact]
    public async Task Logs_PrintsTimeStreamExecutionIdText_AndFollowPrintsNewLinesUntilCancelled()
    {
        await daemon.CreateOkAsync("cli-logs", "python", Logger, "main.py");
        var id = (string)(await daemon.InvokeAsync("cli-logs"))["executionId"]!;

        CliRun run;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do run = await TernAsync(CancellationToken.None, "logs", "cli-logs", "--execution", id);
        while (!run.Stdout.Contains("[stderr]") && DateTime.UtcNow < deadline && await Delay());
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Matches($@"^\d{{4}}-\d\d-\d\dT[\d:.]+Z \[stderr\] {id} working", run.Stdout.Split('\n')[0]);

        var tail = await TernAsync(CancellationToken.None, "logs", "cli-logs", "--tail", "1", "-o", "json");
        Assert.Single(JsonNode.Parse(tail.Stdout)!["lines"]!.AsArray());

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var follow = TernAsync(stop.Token, "logs", "cli-logs", "-f");
        await Task.Delay(1000);
        var second = (string)(await daemon.InvokeAsync("cli-logs"))["executionId"]!;
        await Task.Delay(1000);
        await stop.CancelAsync();
        var followed = await follow;
        Assert.Equal(0, followed.ExitCode);
        Assert.Contains($"[stderr] {second} working", followed.Stdout);
        Assert.DoesNotContain(id, followed.Stdout);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
    }
}
