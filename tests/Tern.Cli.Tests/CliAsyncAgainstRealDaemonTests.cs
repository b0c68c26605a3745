using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Cli.Tests;

/// <summary>enqueue, exec get --watch and dead-letters in-process against a real daemon (Kestrel, SQLite, bubblewrap).</summary>
public sealed class CliAsyncAgainstRealDaemonTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static readonly string PythonExample = Path.Combine(RepoPaths.Root, "examples", "python", "main.py");

    private async Task<CliRun> TernAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await CliHarness.RunAgainstAsync(daemon.BaseAddress, args, timeout.Token);
    }

    [Fact]
    public async Task Enqueue_PythonExample_ExecGetWatchShowsSuccess()
    {
        var created = await TernAsync("create", "cli-async-hello", "--runtime", "python", "--code", PythonExample);
        Assert.True(created.ExitCode == 0, created.Stderr);

        var enqueued = await TernAsync("enqueue", "cli-async-hello", "-d", """{"name":"async"}""");
        Assert.True(enqueued.ExitCode == 0, enqueued.Stderr);
        var id = enqueued.Stdout.Trim();
        Assert.Matches(@"^\S+$", id);

        var watched = await TernAsync("exec", "get", id, "--watch");
        Assert.True(watched.ExitCode == 0, watched.Stdout + watched.Stderr);
        var lines = watched.Stdout.TrimEnd('\n').Split('\n');
        var keyLine = Array.IndexOf(lines, lines.First(l => l.StartsWith("KEY ")));
        Assert.Equal("success (attempt 1)", lines[keyLine - 1]);
        Assert.Contains(lines, l => l == $"executionId  {id}");
        Assert.Contains(lines, l => l == "status       success");
        Assert.Contains(lines, l => l.StartsWith("output       ") && l.Contains("Hello, async!"));

        var json = await TernAsync("exec", "get", id, "-o", "json");
        var record = JsonNode.Parse(json.Stdout)!;
        Assert.Equal("success", (string?)record["status"]);
        Assert.Equal("cli-async-hello", (string?)record["function"]);
        Assert.Equal("Hello, async!", (string?)record["output"]!["message"]);
        Assert.Equal(1, (int)record["attempt"]!);
    }

    [Fact]
    public async Task FailingCall_WithoutRetries_IsListedAsDeadLetterAndCanBeRedriven()
    {
        var created = await TernAsync("create", "cli-async-fail", "--runtime", "python", "--code", PythonExample, "--max-retries", "0");
        Assert.True(created.ExitCode == 0, created.Stderr);

        var id = (await TernAsync("enqueue", "cli-async-fail", "-d", """{"fail":true}""")).Stdout.Trim();
        var watched = await TernAsync("exec", "get", id, "--watch");
        Assert.Equal(1, watched.ExitCode);
        Assert.Contains("status       error", watched.Stdout);
        Assert.StartsWith($"error: execution {id} finished: error: HandlerFailed", watched.Stderr);

        var listed = await TernAsync("dead-letters", "list", "cli-async-fail");
        Assert.True(listed.ExitCode == 0, listed.Stderr);
        var rows = listed.Stdout.TrimEnd('\n').Split('\n');
        Assert.StartsWith("EXECUTION ID", rows[0]);
        Assert.Contains(rows, r => r.StartsWith(id + " ") && r.Contains("HandlerFailed"));

        var redriven = await TernAsync("dead-letters", "redrive", id);
        Assert.True(redriven.ExitCode == 0, redriven.Stderr);
        Assert.Equal(id, redriven.Stdout.Trim());
        var again = await TernAsync("exec", "get", id, "--watch", "-o", "json");
        Assert.Equal(1, again.ExitCode);
        Assert.True((bool)JsonNode.Parse(again.Stdout)!["deadLetter"]!);

        var missing = await TernAsync("exec", "get", "no-such-execution");
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("error: Execution not found", missing.Stderr);
    }
}
