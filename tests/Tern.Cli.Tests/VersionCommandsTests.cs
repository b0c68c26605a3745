using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Cli.Tests;

/// <summary>version / alias / rollback against a stub daemon: the requests they send and what they print.</summary>
public sealed class VersionCommandsWithStubHttpHandlerTests
{
    private static HttpResponseMessage Json(string body) => new(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    [Fact]
    public async Task Publish_PostsDescriptionAndPrintsTheNumber()
    {
        var http = new StubHttpHandler(_ => Json("""{"function":"hello","version":3,"revision":7}"""));
        var run = await CliHarness.RunAsync(http, ["version", "publish", "hello", "--description", "v3 notes"]);
        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(http.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://127.0.0.1:8080/v1/functions/hello/versions", request.Uri.ToString());
        Assert.Equal("v3 notes", (string?)JsonNode.Parse(request.Body!)!["description"]);
        Assert.Equal("published hello version 3 (revision 7)\n", run.Stdout);
    }

    [Fact]
    public async Task AliasSet_WithSplit_PutsWeightsAndPrintsThem()
    {
        var http = new StubHttpHandler(_ => Json("""{"name":"prod","version":1,"additionalVersion":2,"additionalWeight":30}"""));
        var run = await CliHarness.RunAsync(http, ["alias", "set", "hello", "prod", "--version", "1", "--additional-version", "2", "--weight", "30"]);
        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(http.Requests);
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("http://127.0.0.1:8080/v1/functions/hello/aliases/prod", request.Uri.ToString());
        var body = JsonNode.Parse(request.Body!)!;
        Assert.Equal((1, 2, 30), ((int)body["version"]!, (int)body["additionalVersion"]!, (int)body["additionalWeight"]!));
        Assert.Equal("alias prod -> 1 (70%), 2 (30%)\n", run.Stdout);
    }

    [Fact]
    public async Task Rollback_PostsToRollbackAndListsAliasesAndVersions()
    {
        var http = new StubHttpHandler(r => r.RequestUri!.AbsolutePath.EndsWith("/aliases", StringComparison.Ordinal)
            ? Json("""{"aliases":[{"name":"prod","version":1,"previousVersion":2,"updatedAt":"t"}]}""")
            : r.RequestUri!.AbsolutePath.EndsWith("/versions", StringComparison.Ordinal)
                ? Json("""{"versions":[{"version":1,"revision":1,"publishedAt":"t","definition":{"codeHash":"abcdef0123456789"}}]}""")
                : Json("""{"name":"prod","version":1}"""));
        var rollback = await CliHarness.RunAsync(http, ["rollback", "hello", "prod"]);
        Assert.Equal(0, rollback.ExitCode);
        Assert.Equal("http://127.0.0.1:8080/v1/functions/hello/aliases/prod:rollback", http.Requests[0].Uri.ToString());
        Assert.Equal("alias prod -> 1\n", rollback.Stdout);

        var aliases = await CliHarness.RunAsync(http, ["alias", "list", "hello"]);
        Assert.Contains("prod", aliases.Stdout);
        var versions = await CliHarness.RunAsync(http, ["version", "list", "hello"]);
        Assert.Contains("abcdef012345", versions.Stdout);
    }
}

/// <summary>The whole path against a real daemon: publish, alias, invoke NAME:ALIAS, rollback.</summary>
public sealed class VersionCommandsAgainstRealDaemonTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private Task<CliRun> TernAsync(params string[] args) => CliHarness.RunAgainstAsync(daemon.BaseAddress, args);

    [Fact]
    public async Task PublishAliasInvokeRollback()
    {
        var dir = Directory.CreateTempSubdirectory("tern-ver-");
        try
        {
            var code = Path.Combine(dir.FullName, "main.py");
            await File.WriteAllTextAsync(code, "import json\nprint(json.dumps('A'))");
            Assert.Equal(0, (await TernAsync("create", "cli-ver", "--runtime", "python", "--code", code)).ExitCode);
            Assert.Contains("version 1", (await TernAsync("version", "publish", "cli-ver")).Stdout);
            await File.WriteAllTextAsync(code, "import json\nprint(json.dumps('B'))");
            Assert.Equal(0, (await TernAsync("update", "cli-ver", "--code", code)).ExitCode);
            Assert.Contains("version 2", (await TernAsync("version", "publish", "cli-ver")).Stdout);

            Assert.Equal(0, (await TernAsync("alias", "set", "cli-ver", "prod", "--version", "1")).ExitCode);
            Assert.Equal(0, (await TernAsync("alias", "set", "cli-ver", "prod", "--version", "2")).ExitCode);
            Assert.Equal("B", (await TernAsync("invoke", "cli-ver:prod")).Stdout.Trim());
            var rolled = await TernAsync("rollback", "cli-ver", "prod");
            Assert.True(rolled.ExitCode == 0, rolled.Stderr);
            Assert.Equal("A", (await TernAsync("invoke", "cli-ver:prod")).Stdout.Trim());
            Assert.Equal("B", (await TernAsync("invoke", "cli-ver:2")).Stdout.Trim());
            Assert.Contains("prod", (await TernAsync("alias", "list", "cli-ver")).Stdout);
            Assert.Equal(0, (await TernAsync("alias", "delete", "cli-ver", "prod")).ExitCode);
            Assert.Equal(1, (await TernAsync("invoke", "cli-ver:prod")).ExitCode);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
