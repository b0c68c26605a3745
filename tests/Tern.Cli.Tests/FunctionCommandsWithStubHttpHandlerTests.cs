using System.IO.Compression;
using System.Net;
using System.Text.Json.Nodes;

namespace Tern.Cli.Tests;

/// <summary>create/list/get/update/delete against a faked daemon (a stub HttpMessageHandler, no server).</summary>
public sealed class FunctionCommandsWithStubHttpHandlerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Create_DirectoryCode_PostsCamelCaseBodyWithBase64ZipAndOmitsAbsentFields()
    {
        _dir.Write("code/main.py", "print('hi')");
        var http = StubHttpHandler.Json(HttpStatusCode.Created, Samples.Function);

        var run = await CliHarness.RunAsync(http, ["create", "hello", "--runtime", "python", "--code", Path.Combine(_dir.Path, "code"),
            "--memory", "256", "--env", "A=1", "--env", "B=x=y", "--mode", "persistent", "--max-retries", "0"]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(http.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://127.0.0.1:8080/v1/functions", request.Uri.ToString());
        Assert.Equal("application/json", request.MediaType);
        var body = JsonNode.Parse(request.Body!)!.AsObject();
        Assert.Equal(["name", "runtime", "code", "memoryMb", "env", "mode", "maxRetries"], body.Select(p => p.Key));
        Assert.Equal("hello", (string?)body["name"]);
        Assert.Equal(256, (int?)body["memoryMb"]);
        Assert.Equal(0, (int?)body["maxRetries"]);
        Assert.Equal("x=y", (string?)body["env"]!["B"]);
        using var zip = new ZipArchive(new MemoryStream(Convert.FromBase64String((string)body["code"]!)));
        Assert.Equal("main.py", Assert.Single(zip.Entries).FullName);
        Assert.StartsWith("KEY ", run.Stdout);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task Register_SingleFile_SendsCodeFileNameAndHandler()
    {
        var file = _dir.Write("main.py", "x");
        var http = StubHttpHandler.Json(HttpStatusCode.Created, Samples.Function);

        var run = await CliHarness.RunAsync(http, ["register", "hello", "--runtime", "python", "--code", file, "--handler", "main.py", "-o", "json"]);

        Assert.Equal(0, run.ExitCode);
        var body = JsonNode.Parse(Assert.Single(http.Requests).Body!)!;
        Assert.Equal("main.py", (string?)body["codeFileName"]);
        Assert.Equal("main.py", (string?)body["handler"]);
        Assert.Equal("eA==", (string?)body["code"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Samples.Function), JsonNode.Parse(run.Stdout)));
    }

    [Fact]
    public async Task Create_MissingCodePath_ExitsOneWithoutSendingAnything()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.Created, Samples.Function);
        var missing = Path.Combine(_dir.Path, "nope");

        var run = await CliHarness.RunAsync(http, ["create", "hello", "--runtime", "python", "--code", missing]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: code path '{missing}' does not exist\n", run.Stderr);
        Assert.Empty(http.Requests);
    }

    [Fact]
    public async Task Create_ValidationProblem_PrintsOneLineWithFieldErrors()
    {
        var http = StubHttpHandler.Problem(HttpStatusCode.BadRequest, """
            {"title":"Invalid function definition","status":400,"detail":"unknown runtime 'x'.","errors":{"runtime":["unknown runtime 'x'."]}}
            """);

        var run = await CliHarness.RunAsync(http, ["create", "hello", "--runtime", "x", "--code", _dir.Write("f.py", "")]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: Invalid function definition (runtime: unknown runtime 'x'.)\n", run.Stderr);
    }

    [Fact]
    public async Task Create_WithoutRuntime_IsUsageErrorExitTwo()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.Created, Samples.Function);

        var run = await CliHarness.RunAsync(http, ["create", "hello", "--code", "."]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: Option '--runtime' is required.", run.Stderr);
        Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Empty(http.Requests);
    }

    [Fact]
    public async Task List_ServerFromEnvironment_GetsFunctionsThere()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.OK, Samples.FunctionList);

        var run = await CliHarness.RunAsync(http, ["list"], environment: new Dictionary<string, string> { ["TERN_SERVER"] = "http://tern.test:9000/" });

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("http://tern.test:9000/v1/functions", Assert.Single(http.Requests).Uri.ToString());
        Assert.StartsWith("NAME    RUNTIME", run.Stdout);
    }

    [Fact]
    public async Task List_ConnectionRefused_PrintsCannotReachAndExitsOne()
    {
        var run = await CliHarness.RunAsync(StubHttpHandler.Refused(), ["list", "--server", "http://127.0.0.1:9"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: cannot reach the Tern daemon at http://127.0.0.1:9 (start it with: tern daemon)\n", run.Stderr);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Get_NotFoundProblem_ExitsOneWithErrorLine()
    {
        var http = StubHttpHandler.Problem(HttpStatusCode.NotFound, Samples.NotFoundProblem);

        var run = await CliHarness.RunAsync(http, ["get", "nope"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("http://127.0.0.1:8080/v1/functions/nope", Assert.Single(http.Requests).Uri.ToString());
        Assert.Equal("error: Function not found: function 'nope' does not exist\n", run.Stderr);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Get_YamlOutput_PrintsFunctionAsYaml()
    {
        var run = await CliHarness.RunAsync(StubHttpHandler.Json(HttpStatusCode.OK, Samples.Function), ["get", "hello", "-o", "yaml"]);

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("name: hello\nruntime: python\n", run.Stdout);
    }

    [Fact]
    public async Task Update_SomeOptions_PatchesOnlyThoseFields()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.OK, Samples.Function);

        var run = await CliHarness.RunAsync(http, ["update", "hello", "--timeout", "5000", "--isolation", "process"]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(http.Requests);
        Assert.Equal(HttpMethod.Patch, request.Method);
        Assert.Equal("/v1/functions/hello", request.Uri.AbsolutePath);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"timeoutMs":5000,"isolation":"process"}"""), JsonNode.Parse(request.Body!)));
    }

    [Fact]
    public async Task Update_KubernetesStyle_PatchesTheKubernetesObject_AndAnUnknownStyleIsAUsageError()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.OK, Samples.Function);

        var run = await CliHarness.RunAsync(http, ["update", "hello", "--kubernetes-style", "job"]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(http.Requests);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"kubernetes":{"style":"job"}}"""), JsonNode.Parse(request.Body!)), request.Body);

        var bad = await CliHarness.RunAsync(http, ["update", "hello", "--kubernetes-style", "cron"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(http.Requests);
    }

    [Fact]
    public async Task Update_NoOptions_IsUsageErrorWithoutRequest()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.OK, Samples.Function);

        var run = await CliHarness.RunAsync(http, ["update", "hello"]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: nothing to update", run.Stderr);
        Assert.Empty(http.Requests);
    }

    [Fact]
    public async Task Delete_NoContent_PrintsDeleted()
    {
        var http = StubHttpHandler.NoContent();

        var run = await CliHarness.RunAsync(http, ["delete", "hello"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(HttpMethod.Delete, Assert.Single(http.Requests).Method);
        Assert.Equal("deleted hello\n", run.Stdout);
    }

    [Fact]
    public async Task Delete_ServerErrorWithPlainBody_ExitsOneWithStatusLine()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.InternalServerError, "oops", "text/plain");

        var run = await CliHarness.RunAsync(http, ["delete", "hello"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: HTTP 500 Internal Server Error: oops\n", run.Stderr);
    }
}
