using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Tern.Cli.Tests;

/// <summary>`tern init` and `tern apply` against a faked daemon: the plan, and which writes it sends.</summary>
public sealed class ProjectCommandsWithStubHttpHandlerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string HelloPy = "print('{}')\n";

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private string WriteYaml(string functionBody)
    {
        _dir.Write("main.py", HelloPy);
        return _dir.Write("tern.yaml", "functions:\n  - name: hello\n    runtime: python\n    code: main.py\n    handler: main.py\n" + functionBody);
    }

    /// <summary>A daemon holding <paramref name="function"/> (null: none), with the given aliases, versions and schedules.</summary>
    private static StubHttpHandler Daemon(JsonObject? function, string aliases = "[]", string versions = "[]", string schedules = "[]") => new(request =>
    {
        var path = request.RequestUri!.AbsolutePath;
        (HttpStatusCode, string) answer = (request.Method.Method, path) switch
        {
            ("GET", "/v1/functions/hello") => function is null
                ? (HttpStatusCode.NotFound, Samples.NotFoundProblem)
                : (HttpStatusCode.OK, function.ToJsonString()),
            ("GET", "/v1/functions/hello/aliases") => (HttpStatusCode.OK, $$"""{"aliases":{{aliases}}}"""),
            ("GET", "/v1/functions/hello/versions") => (HttpStatusCode.OK, $$"""{"versions":{{versions}}}"""),
            ("GET", "/v1/schedules") => (HttpStatusCode.OK, $$"""{"schedules":{{schedules}}}"""),
            ("POST", "/v1/functions") => (HttpStatusCode.Created, Samples.Function),
            ("PATCH", "/v1/functions/hello") => (HttpStatusCode.OK, Samples.Function),
            ("PUT", _) => (HttpStatusCode.OK, """{"name":"prod","version":1}"""),
            ("POST", "/v1/schedules") => (HttpStatusCode.Created, """{"id":"s-new"}"""),
            ("PATCH", _) => (HttpStatusCode.OK, """{"id":"s1"}"""),
            ("DELETE", _) => (HttpStatusCode.NoContent, ""),
            _ => (HttpStatusCode.NotFound, Samples.NotFoundProblem),
        };
        return new HttpResponseMessage(answer.Item1) { Content = new StringContent(answer.Item2, Encoding.UTF8, "application/json") };
    });

    private static JsonObject Current(int memoryMb = 128) => new()
    {
        ["name"] = "hello", ["runtime"] = "python", ["handler"] = "main.py", ["codeHash"] = Hash(HelloPy), ["codeFileName"] = "main.py",
        ["memoryMb"] = memoryMb, ["timeoutMs"] = 30000, ["env"] = new JsonObject { ["GREETING"] = "hi" }, ["version"] = 3,
    };

    private static IEnumerable<RecordedRequest> Writes(StubHttpHandler http) => http.Requests.Where(r => r.Method != HttpMethod.Get);

    [Fact]
    public async Task Apply_AbsentFunction_CreatesItAndItsSchedules()
    {
        var yaml = WriteYaml("    memoryMb: 256\n    schedules:\n      - expression: \"@every 5m\"\n        payload: {ping: true}\n");
        var http = Daemon(function: null);

        var run = await CliHarness.RunAsync(http, ["apply", "-f", yaml]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("+ function hello\n+ schedule hello \"@every 5m\" (UTC)\n", run.Stdout);
        var writes = Writes(http).ToList();
        Assert.Equal(2, writes.Count);
        var body = JsonNode.Parse(writes[0].Body!)!;
        Assert.Equal("hello", (string?)body["name"]);
        Assert.Equal(256, (int?)body["memoryMb"]);
        Assert.Equal("main.py", (string?)body["codeFileName"]);
        Assert.Equal(HelloPy, Encoding.UTF8.GetString(Convert.FromBase64String((string)body["code"]!)));
        var schedule = JsonNode.Parse(writes[1].Body!)!;
        Assert.Equal("hello", (string?)schedule["function"]);
        Assert.True((bool)schedule["payload"]!["ping"]!);
    }

    [Fact]
    public async Task Apply_ChangedField_PatchesOnlyThatField()
    {
        var yaml = WriteYaml("    memoryMb: 256\n    env: {GREETING: hi}\n");
        var http = Daemon(Current(memoryMb: 128));

        var run = await CliHarness.RunAsync(http, ["apply", "-f", yaml]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("~ function hello: memoryMb 128 -> 256\n", run.Stdout);
        var patch = Assert.Single(Writes(http));
        Assert.Equal(HttpMethod.Patch, patch.Method);
        Assert.Equal("""{"memoryMb":256}""", patch.Body);
    }

    [Fact]
    public async Task Apply_KubernetesStyle_IsSentOnCreate_AndPatchedWhenItDiffers_WarmBeingTheDefault()
    {
        var yaml = WriteYaml("    isolation: kubernetes\n    kubernetes: {style: job}\n");

        var create = Daemon(function: null);
        var created = await CliHarness.RunAsync(create, ["apply", "-f", yaml]);
        Assert.True(created.ExitCode == 0, created.Stderr);
        Assert.Equal("job", (string?)JsonNode.Parse(Writes(create).First().Body!)!["kubernetes"]?["style"]);

        var current = Current();
        current["isolation"] = "kubernetes"; // no kubernetes field: the warm style
        var update = Daemon(current);
        var updated = await CliHarness.RunAsync(update, ["apply", "-f", yaml]);
        Assert.True(updated.ExitCode == 0, updated.Stderr);
        Assert.Equal("~ function hello: kubernetes.style warm -> job\n", updated.Stdout);
        Assert.Equal("""{"kubernetes":{"style":"job"}}""", Assert.Single(Writes(update)).Body);

        current["kubernetes"] = new JsonObject { ["style"] = "job" };
        var same = Daemon(current);
        Assert.Equal("= function hello\n", (await CliHarness.RunAsync(same, ["apply", "-f", yaml])).Stdout);
        Assert.Empty(Writes(same));
    }

    [Fact]
    public async Task Apply_KubernetesWithAnUnknownKey_IsAnErrorNamingIt()
    {
        var yaml = WriteYaml("    isolation: kubernetes\n    kubernetes: {stlye: job}\n");

        var run = await CliHarness.RunAsync(Daemon(function: null), ["apply", "-f", yaml]);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("stlye", run.Stderr);
    }

    [Fact]
    public async Task Apply_ChangedCode_SendsNewCode()
    {
        var yaml = WriteYaml("");
        var current = Current();
        current["codeHash"] = "0000";
        var http = Daemon(current);

        var run = await CliHarness.RunAsync(http, ["apply", "-f", yaml]);

        Assert.Equal("~ function hello: code changed\n", run.Stdout);
        var body = JsonNode.Parse(Assert.Single(Writes(http)).Body!)!.AsObject();
        Assert.Equal(["code", "codeFileName"], body.Select(p => p.Key));
    }

    [Fact]
    public async Task Apply_Unchanged_PrintsOnlyEqualsLinesAndMakesNoWrites()
    {
        var yaml = WriteYaml("    memoryMb: 128\n    env: {GREETING: hi}\n    aliases:\n      prod: {version: 1}\n" +
            "    schedules:\n      - expression: \"@every 5m\"\n        timezone: UTC\n");
        var http = Daemon(Current(), aliases: """[{"name":"prod","version":1,"additionalVersion":null,"additionalWeight":null}]""",
            schedules: """[{"id":"s1","function":"hello","expression":"@every 5m","timezone":"UTC","payload":{}}]""");

        var run = await CliHarness.RunAsync(http, ["apply", "-f", yaml]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("= function hello\n= alias hello:prod\n= schedule hello \"@every 5m\" (UTC)\n", run.Stdout);
        Assert.Empty(Writes(http));
    }

    [Fact]
    public async Task Apply_DryRun_PrintsPlanAndMakesNoWrites()
    {
        var yaml = WriteYaml("    memoryMb: 512\n    aliases:\n      prod: {version: 2}\n    schedules:\n      - expression: \"@every 1h\"\n");
        var http = Daemon(Current(), aliases: """[{"name":"prod","version":1}]""", versions: """[{"version":1},{"version":2}]""",
            schedules: """[{"id":"s9","function":"hello","expression":"@every 5m","timezone":"UTC","payload":{}}]""");

        var run = await CliHarness.RunAsync(http, ["apply", "-f", yaml, "--dry-run", "--prune"]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("""
            ~ function hello: memoryMb 128 -> 512
            ~ alias hello:prod: 1 -> 2
            + schedule hello "@every 1h" (UTC)
            - schedule hello "@every 5m" (UTC) [s9]
            dry run: nothing was changed

            """.Replace("\r", ""), run.Stdout);
        Assert.Empty(Writes(http));
    }

    [Fact]
    public async Task Apply_ExtraSchedule_KeptWithoutPruneAndDeletedWithIt()
    {
        var yaml = WriteYaml("");
        const string schedules = """[{"id":"s9","function":"hello","expression":"@every 5m","timezone":"UTC","payload":{}}]""";

        var kept = Daemon(Current(), schedules: schedules);
        var run = await CliHarness.RunAsync(kept, ["apply", "-f", yaml]);
        Assert.Equal("= function hello\n! extra schedule hello \"@every 5m\" (UTC) [s9] (use --prune)\n", run.Stdout);
        Assert.Empty(Writes(kept));

        var pruned = Daemon(Current(), schedules: schedules);
        run = await CliHarness.RunAsync(pruned, ["apply", "-f", yaml, "--prune"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var delete = Assert.Single(Writes(pruned));
        Assert.Equal(HttpMethod.Delete, delete.Method);
        Assert.EndsWith("/v1/schedules/s9", delete.Uri.AbsolutePath);
    }

    [Fact]
    public async Task Apply_AliasToUnpublishedVersion_FailsBeforeAnyWrite()
    {
        var yaml = WriteYaml("    memoryMb: 512\n    aliases:\n      prod: {version: 4}\n");
        var http = Daemon(Current(), versions: """[{"version":1}]""");

        var run = await CliHarness.RunAsync(http, ["apply", "-f", yaml]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("version 4, which does not exist yet", run.Stderr);
        Assert.Contains("tern version publish hello", run.Stderr);
        Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.Empty(Writes(http));
    }

    [Fact]
    public async Task Apply_UnknownKey_OneErrorLineWithLineNumber()
    {
        var yaml = WriteYaml("    memory: 256\n");
        var http = Daemon(Current());

        var run = await CliHarness.RunAsync(http, ["apply", "-f", yaml]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: {yaml}: line 6, column 5: unknown key 'memory'\n", run.Stderr);
        Assert.Empty(http.Requests);
    }

    [Fact]
    public async Task Apply_DirectoryCode_IgnoresTheYamlInsideIt()
    {
        _dir.Write("main.py", HelloPy);
        var yaml = _dir.Write("tern.yaml", "functions:\n  - name: hello\n    code: .\n");
        var http = Daemon(Current());
        var first = await CliHarness.RunAsync(http, ["apply", "-f", yaml, "--dry-run"]);
        File.AppendAllText(yaml, "    memoryMb: 128\n");
        var second = await CliHarness.RunAsync(http, ["apply", "-f", yaml, "--dry-run"]);
        // The zip differs from the single file's hash either way; what matters is that editing the yaml does not change it.
        Assert.Equal(first.Stdout, second.Stdout);
    }

    [Fact]
    public async Task Init_Python_WritesHandlerAndYaml_AndRefusesToOverwrite()
    {
        var target = Path.Combine(_dir.Path, "greet");
        var run = await CliHarness.RunAsync(null, ["init", "greet", "--runtime", "python", "--dir", target]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("def handler", File.ReadAllText(Path.Combine(target, "main.py")));
        var project = Project.ProjectFileReader.Load(Path.Combine(target, "tern.yaml"));
        var f = Assert.Single(project.Functions!);
        Assert.Equal(("greet", "python", ".", "main.py"), (f.Name, f.Runtime, f.Code, f.Handler));

        var again = await CliHarness.RunAsync(null, ["init", "greet", "--runtime", "python", "--dir", target]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Stderr);
    }

    [Theory]
    [InlineData("node", "index.js")]
    [InlineData("go", "main.go")]
    [InlineData("rust", "src/main.rs")]
    [InlineData("dotnet", "Program.cs")]
    [InlineData("java", "Hello.java")]
    [InlineData("wasm", "hello.wat")]
    [InlineData("binary", "bootstrap")]
    public async Task Init_OtherRuntimes_WriteSourceAndValidYaml(string runtime, string file)
    {
        var target = Path.Combine(_dir.Path, runtime);
        var run = await CliHarness.RunAsync(null, ["init", "fn", "--runtime", runtime, "--dir", target]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.True(File.Exists(Path.Combine(target, file)));
        Assert.Equal(runtime, Assert.Single(Project.ProjectFileReader.Load(Path.Combine(target, "tern.yaml")).Functions!).Runtime);
    }
}
