using System.Text.Json.Nodes;
using Tern.Cli.Commands;
using Tern.Testing;

namespace Tern.Cli.Tests;

/// <summary>`tern exec list` in-process against a real daemon: filters, a page and the command for the next one,
/// --all, json output, and bad values refused with a message and a non-zero exit.</summary>
public sealed class ExecListAgainstRealDaemonTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static readonly string PythonExample = Path.Combine(RepoPaths.Root, "examples", "python", "main.py");

    private async Task<CliRun> TernAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await CliHarness.RunAgainstAsync(daemon.BaseAddress, args, timeout.Token);
    }

    private static string[] Rows(CliRun run) => run.Stdout.TrimEnd('\n').Split('\n');

    /// <summary>Four calls of "cli-el": three succeed, the last fails. Returns their ids, oldest first.</summary>
    private async Task<List<string>> CallsAsync()
    {
        var created = await TernAsync("create", "cli-el", "--runtime", "python", "--code", PythonExample);
        Assert.True(created.ExitCode == 0, created.Stderr);
        var ids = new List<string>();
        foreach (var payload in new[] { """{"name":"a"}""", """{"name":"b"}""", """{"name":"c"}""", """{"fail":true}""" })
        {
            var run = await TernAsync("invoke", "cli-el", "-d", payload, "-o", "json");
            ids.Add((string)JsonNode.Parse(run.Stdout)!["executionId"]!);
        }
        return ids;
    }

    [Fact]
    public async Task ExecList_FiltersPagesAndRefusesBadValues()
    {
        var ids = await CallsAsync();

        var all = await TernAsync("exec", "list", "--function", "cli-el");
        Assert.True(all.ExitCode == 0, all.Stderr);
        var rows = Rows(all);
        Assert.Matches(@"^EXECUTION ID\s+FUNCTION\s+VERSION\s+STATUS\s+CREATED\s+DURATION\s+ERROR CODE$", rows[0]);
        Assert.Equal(Enumerable.Reverse(ids), rows.Skip(1).Select(r => r.Split(' ')[0]));
        Assert.Matches(@"^\S+\s+cli-el\s+\$LATEST\s+error\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z\s+[\d.]+ms\s+HandlerFailed$", rows[1]);
        Assert.Equal("", all.Stderr);

        var failed = await TernAsync("exec", "list", "--function", "cli-el", "--status", "error");
        Assert.Equal([ids[3]], Rows(failed).Skip(1).Select(r => r.Split(' ')[0]));

        var recent = await TernAsync("exec", "list", "--function", "cli-el", "--since", "1h", "--status", "success,error");
        Assert.Equal(5, Rows(recent).Length);

        var first = await TernAsync("exec", "list", "--function", "cli-el", "--limit", "3");
        Assert.Equal(Enumerable.Reverse(ids).Take(3), Rows(first).Skip(1).Select(r => r.Split(' ')[0]));
        Assert.StartsWith("more: tern exec list --function cli-el --limit 3 --cursor ", first.Stderr);
        var next = first.Stderr.Trim().Split(' ')[^1];
        var second = await TernAsync("exec", "list", "--function", "cli-el", "--limit", "3", "--cursor", next);
        Assert.Equal([ids[0]], Rows(second).Skip(1).Select(r => r.Split(' ')[0]));
        Assert.Equal("", second.Stderr);

        var everything = await TernAsync("exec", "list", "--function", "cli-el", "--limit", "1", "--all", "-o", "json");
        Assert.True(everything.ExitCode == 0, everything.Stderr);
        var document = JsonNode.Parse(everything.Stdout)!;
        Assert.Equal(Enumerable.Reverse(ids), document["executions"]!.AsArray().Select(e => (string)e!["executionId"]!));
        Assert.Null(document["nextCursor"]);

        var badStatus = await TernAsync("exec", "list", "--status", "broken");
        Assert.Equal(1, badStatus.ExitCode);
        Assert.Contains("status: 'broken' is not a status", badStatus.Stderr);
        var badSince = await TernAsync("exec", "list", "--since", "last tuesday");
        Assert.Equal(1, badSince.ExitCode);
        Assert.Contains("since: must be an RFC 3339 time", badSince.Stderr);
        var badLimit = await TernAsync("exec", "list", "--limit", "0");
        Assert.Equal(2, badLimit.ExitCode);
        Assert.Contains("--limit must be at least 1", badLimit.Stderr);
        var both = await TernAsync("exec", "list", "--all", "--cursor", next);
        Assert.Equal(2, both.ExitCode);
    }

    [Theory]
    [InlineData("90s", "2026-12-02T11:58:30.0000000Z")]
    [InlineData("10m", "2026-12-02T11:50:00.0000000Z")]
    [InlineData("2h", "2026-12-02T10:00:00.0000000Z")]
    [InlineData("1d", "2026-12-01T12:00:00.0000000Z")]
    [InlineData("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z")]
    [InlineData("5w", "5w")]
    public void SinceTime_AnAgeBecomesATime_AnythingElseGoesAsGiven(string given, string sent) =>
        Assert.Equal(sent, ExecCommands.SinceTime(given, new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero)));
}
