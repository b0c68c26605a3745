using System.Net;
using System.Text.Json.Nodes;

namespace Tern.Cli.Tests;

/// <summary>`tern invoke` against a faked daemon (a stub HttpMessageHandler, no server).</summary>
public sealed class InvokeCommandWithStubHttpHandlerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static StubHttpHandler Answer(string body) => new(_ =>
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        response.Headers.Add("X-Execution-Id", "ex-1");
        return response;
    });

    [Fact]
    public async Task Invoke_DataSuccess_PostsPayloadAndPrintsOutput()
    {
        var http = Answer(Samples.InvokeSuccess);

        var run = await CliHarness.RunAsync(http, ["invoke", "hello", "-d", """{"name":"tern"}"""]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(http.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://127.0.0.1:8080/v1/functions/hello:invoke", request.Uri.ToString());
        Assert.Equal("application/json", request.MediaType);
        Assert.Equal("""{"name":"tern"}""", request.Body);
        Assert.Equal("{\n  \"message\": \"Hello, tern!\"\n}\n", run.Stdout);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task Invoke_FilePayload_SendsFileContent()
    {
        var http = Answer(Samples.InvokeSuccess);
        var file = _dir.Write("event.json", """[1,2]""");

        var run = await CliHarness.RunAsync(http, ["invoke", "hello", "-f", file]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("[1,2]", Assert.Single(http.Requests).Body);
    }

    [Fact]
    public async Task Invoke_PipedStdin_SendsIt()
    {
        var http = Answer(Samples.InvokeSuccess);

        var run = await CliHarness.RunAsync(http, ["invoke", "hello"], stdin: """{"from":"stdin"}""");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("""{"from":"stdin"}""", Assert.Single(http.Requests).Body);
    }

    [Fact]
    public async Task Invoke_NoPayloadOnTerminal_SendsEmptyObject()
    {
        var http = Answer(Samples.InvokeSuccess);

        await CliHarness.RunAsync(http, ["invoke", "hello"]);

        Assert.Equal("{}", Assert.Single(http.Requests).Body);
    }

    [Fact]
    public async Task Invoke_InvalidJson_ExitsOneWithoutRequest()
    {
        var http = Answer(Samples.InvokeSuccess);

        var run = await CliHarness.RunAsync(http, ["invoke", "hello", "-d", "{oops"]);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("error: the payload from -d is not valid JSON: ", run.Stderr);
        Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Empty(http.Requests);
    }

    [Fact]
    public async Task Invoke_DataAndFile_IsUsageErrorExitTwo()
    {
        var http = Answer(Samples.InvokeSuccess);

        var run = await CliHarness.RunAsync(http, ["invoke", "hello", "-d", "{}", "-f", "x.json"]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: give either -d/--data or -f/--file, not both", run.Stderr);
        Assert.Empty(http.Requests);
    }

    [Fact]
    public async Task Invoke_FunctionError_PrintsStatusCodeMessageAndExitsOne()
    {
        var run = await CliHarness.RunAsync(Answer(Samples.InvokeError), ["invoke", "hello"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Equal("error: error: HandlerFailed: handler exited with code 1: boom\n", run.Stderr);
    }

    [Fact]
    public async Task Invoke_FunctionErrorWithJsonOutput_PrintsWholeResponseAndExitsOne()
    {
        var run = await CliHarness.RunAsync(Answer(Samples.InvokeError), ["invoke", "hello", "-o", "json"]);

        Assert.Equal(1, run.ExitCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Samples.InvokeError), JsonNode.Parse(run.Stdout)));
    }

    [Fact]
    public async Task Invoke_UnknownFunction_PrintsProblemAndExitsOne()
    {
        var http = StubHttpHandler.Problem(HttpStatusCode.NotFound, Samples.NotFoundProblem);

        var run = await CliHarness.RunAsync(http, ["invoke", "nope", "-d", "{}"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: Function not found: function 'nope' does not exist\n", run.Stderr);
    }

    [Fact]
    public async Task Invoke_ConnectionRefused_PrintsCannotReachAndExitsOne()
    {
        var run = await CliHarness.RunAsync(StubHttpHandler.Refused(), ["invoke", "hello"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: cannot reach the Tern daemon at http://127.0.0.1:8080 (start it with: tern daemon)\n", run.Stderr);
    }
}
