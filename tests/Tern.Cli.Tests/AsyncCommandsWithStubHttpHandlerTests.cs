using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Tern.Cli.Tests;

/// <summary>enqueue, exec get [--watch] and dead-letters against a faked daemon (a stub HttpMessageHandler, no server).</summary>
public sealed class AsyncCommandsWithStubHttpHandlerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    /// <summary>Answers each request with the next body; the last one repeats.</summary>
    private static StubHttpHandler Sequence(params string[] bodies)
    {
        var next = 0;
        return new StubHttpHandler(_ => Json(HttpStatusCode.OK, bodies[Math.Min(next++, bodies.Length - 1)]));
    }

    private static Task<CliRun> RunFastAsync(StubHttpHandler http, params string[] args) =>
        CliHarness.RunAsync(http, args, configure: app => app.WatchInterval = TimeSpan.FromMilliseconds(1));

    private static string[] Lines(string text) => text.TrimEnd('\n').Split('\n');

    // enqueue

    [Fact]
    public async Task Enqueue_Data_PostsToEnqueueAndPrintsOnlyTheExecutionId()
    {
        var http = new StubHttpHandler(_ => Json(HttpStatusCode.Accepted, AsyncSamples.Enqueued));

        var run = await CliHarness.RunAsync(http, ["enqueue", "hello", "-d", """{"name":"x"}"""]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(http.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://127.0.0.1:8080/v1/functions/hello:enqueue", request.Uri.ToString());
        Assert.Equal("application/json", request.MediaType);
        Assert.Equal("""{"name":"x"}""", request.Body);
        Assert.Equal("ex-42\n", run.Stdout);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task Enqueue_FileAndStdin_SendThePayload()
    {
        var file = _dir.Write("event.json", "[1,2]");
        var fromFile = new StubHttpHandler(_ => Json(HttpStatusCode.Accepted, AsyncSamples.Enqueued));
        var fromStdin = new StubHttpHandler(_ => Json(HttpStatusCode.Accepted, AsyncSamples.Enqueued));

        Assert.Equal(0, (await CliHarness.RunAsync(fromFile, ["enqueue", "hello", "-f", file])).ExitCode);
        Assert.Equal(0, (await CliHarness.RunAsync(fromStdin, ["enqueue", "hello"], stdin: """{"from":"stdin"}""")).ExitCode);

        Assert.Equal("[1,2]", Assert.Single(fromFile.Requests).Body);
        Assert.Equal("""{"from":"stdin"}""", Assert.Single(fromStdin.Requests).Body);
    }

    [Fact]
    public async Task Enqueue_CallbackUrl_IsSentAsHeader()
    {
        string? header = null;
        var http = new StubHttpHandler(request =>
        {
            header = request.Headers.TryGetValues("X-Callback-Url", out var values) ? values.Single() : null;
            return Json(HttpStatusCode.Accepted, AsyncSamples.Enqueued);
        });

        var run = await CliHarness.RunAsync(http, ["enqueue", "hello", "--callback-url", "https://example.com/hook?a=1"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("https://example.com/hook?a=1", header);
        Assert.Equal("{}", Assert.Single(http.Requests).Body);
    }

    [Fact]
    public async Task Enqueue_BadCallbackUrl_IsUsageErrorWithoutRequest()
    {
        var http = new StubHttpHandler(_ => Json(HttpStatusCode.Accepted, AsyncSamples.Enqueued));

        var run = await CliHarness.RunAsync(http, ["enqueue", "hello", "--callback-url", "ftp://x"]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: --callback-url must be an absolute http:// or https:// URL, not 'ftp://x'", run.Stderr);
        Assert.Single(Lines(run.Stderr));
        Assert.Empty(http.Requests);
    }

    [Fact]
    public async Task Enqueue_JsonOutput_PrintsTheWholeResponse()
    {
        var run = await CliHarness.RunAsync(StubHttpHandler.Json(HttpStatusCode.Accepted, AsyncSamples.Enqueued), ["enqueue", "hello", "-o", "json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(AsyncSamples.Enqueued), JsonNode.Parse(run.Stdout)));
    }

    [Fact]
    public async Task Enqueue_YamlOutput_PrintsTheWholeResponse()
    {
        var run = await CliHarness.RunAsync(StubHttpHandler.Json(HttpStatusCode.Accepted, AsyncSamples.Enqueued), ["enqueue", "hello", "-o", "yaml"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("executionId: ex-42\nstatus: queued\n", run.Stdout);
    }

    [Fact]
    public async Task Enqueue_InvalidJson_ExitsOneWithoutRequest()
    {
        var http = new StubHttpHandler(_ => Json(HttpStatusCode.Accepted, AsyncSamples.Enqueued));

        var run = await CliHarness.RunAsync(http, ["enqueue", "hello", "-d", "{oops"]);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("error: the payload from -d is not valid JSON: ", run.Stderr);
        Assert.Empty(http.Requests);
    }

    [Fact]
    public async Task Enqueue_QueueFull_PrintsTheProblemOnOneLineAndExitsOne()
    {
        var http = StubHttpHandler.Problem(HttpStatusCode.TooManyRequests, """
            {"title":"Queue full","status":429,"detail":"function 'hello' has 100 calls waiting already (queueSize); retry later"}
            """);

        var run = await CliHarness.RunAsync(http, ["enqueue", "hello"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: Queue full: function 'hello' has 100 calls waiting already (queueSize); retry later\n", run.Stderr);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Enqueue_ConnectionRefused_PrintsCannotReachAndExitsOne()
    {
        var run = await CliHarness.RunAsync(StubHttpHandler.Refused(), ["enqueue", "hello"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: cannot reach the Tern daemon at http://127.0.0.1:8080 (start it with: tern daemon)\n", run.Stderr);
    }

    // exec get

    [Fact]
    public async Task ExecGet_Table_PrintsKeyValueLinesInOrder()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.OK, AsyncSamples.Failed);

        var run = await CliHarness.RunAsync(http, ["exec", "get", "ex-42"]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(http.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("http://127.0.0.1:8080/v1/executions/ex-42", request.Uri.ToString());
        Assert.Equal(
            [
                "KEY          VALUE",
                "executionId  ex-42",
                "function     hello",
                "status       error",
                "attempt      4",
                "output       -",
                "error        HandlerFailed: boom",
                "createdAt    2025-01-02 03:04:05.123Z",
                "startedAt    2025-01-02 03:04:05.200Z",
                "finishedAt   2025-01-02 03:04:09.000Z",
                "durationMs   12.5ms",
                "coldStart    true",
                "traceId      t-1",
                "deadLetter   false",
            ], Lines(run.Stdout));
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task ExecGet_WithoutWatch_ExitsZeroWhateverTheStatus()
    {
        var run = await CliHarness.RunAsync(StubHttpHandler.Json(HttpStatusCode.OK, AsyncSamples.Execution("queued")), ["exec", "get", "ex-42"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("status       queued", run.Stdout);
    }

    [Fact]
    public async Task ExecGet_Json_PrintsTheRecordAsReceived()
    {
        var run = await CliHarness.RunAsync(StubHttpHandler.Json(HttpStatusCode.OK, AsyncSamples.Succeeded), ["exec", "get", "ex-42", "-o", "json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(AsyncSamples.Succeeded), JsonNode.Parse(run.Stdout)));
    }

    [Fact]
    public async Task ExecGet_Unknown_PrintsProblemAndExitsOne()
    {
        var http = StubHttpHandler.Problem(HttpStatusCode.NotFound, AsyncSamples.ExecutionNotFound);

        var run = await CliHarness.RunAsync(http, ["exec", "get", "nope"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: Execution not found: execution 'nope' does not exist (or has expired)\n", run.Stderr);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task ExecGet_IdIsEscapedInThePath()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.OK, AsyncSamples.Succeeded);

        await CliHarness.RunAsync(http, ["exec", "get", "a/b c"]);

        Assert.Equal("/v1/executions/a%2Fb%20c", Assert.Single(http.Requests).Uri.AbsolutePath);
    }

    [Fact]
    public async Task ExecGetWatch_PollsUntilSuccess_PrintsEachChangeOnceThenTheRecord_ExitsZero()
    {
        var http = Sequence(AsyncSamples.Execution("queued"), AsyncSamples.Execution("queued"), AsyncSamples.Execution("running"),
            AsyncSamples.Execution("running"), AsyncSamples.Succeeded);

        var run = await RunFastAsync(http, "exec", "get", "ex-42", "--watch");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(5, http.Requests.Count);
        var lines = Lines(run.Stdout);
        Assert.Equal(["queued (attempt 1)", "running (attempt 1)", "success (attempt 1)"], lines[..3]);
        Assert.Equal("KEY          VALUE", lines[3]);
        Assert.Contains("output       {\"message\":\"Hello, x!\"}", lines);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task ExecGetWatch_RetryThenDeadLetter_ShowsTheRetryAndExitsOne()
    {
        var http = Sequence(AsyncSamples.Execution("running"),
            AsyncSamples.Execution("queued", attempt: 2, error: """{"code":"HandlerFailed","message":"first\nboom"}"""),
            AsyncSamples.Execution("running", attempt: 2), AsyncSamples.Failed);

        var run = await RunFastAsync(http, "exec", "get", "ex-42", "-w");

        Assert.Equal(1, run.ExitCode);
        var lines = Lines(run.Stdout);
        Assert.Equal(
            ["running (attempt 1)", "queued (attempt 2): previous attempt failed: HandlerFailed: first boom", "running (attempt 2)", "error (attempt 4)"],
            lines[..4]);
        Assert.Equal("error: execution ex-42 finished: error: HandlerFailed: boom\n", run.Stderr);
    }

    [Fact]
    public async Task ExecGetWatch_AlreadyFinished_PollsOnce()
    {
        var http = Sequence(AsyncSamples.Succeeded);

        var run = await RunFastAsync(http, "exec", "get", "ex-42", "--watch");

        Assert.Equal(0, run.ExitCode);
        Assert.Single(http.Requests);
        Assert.StartsWith("success (attempt 1)\nKEY ", run.Stdout);
    }

    [Fact]
    public async Task ExecGetWatch_Timeout_ExitsOne()
    {
        var timedOut = AsyncSamples.Execution("timeout", error: """{"code":"Timeout","message":"took too long"}""", finishedAt: "2025-01-02T03:04:35Z");

        var run = await RunFastAsync(Sequence(AsyncSamples.Execution("running"), timedOut), "exec", "get", "ex-42", "--watch");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: execution ex-42 finished: timeout: Timeout: took too long\n", run.Stderr);
    }

    [Fact]
    public async Task ExecGetWatch_Json_KeepsStdoutOneDocument_StatusLinesGoToStderr()
    {
        var http = Sequence(AsyncSamples.Execution("queued"), AsyncSamples.Execution("running"), AsyncSamples.Succeeded);

        var run = await RunFastAsync(http, "exec", "get", "ex-42", "--watch", "-o", "json");

        Assert.Equal(0, run.ExitCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(AsyncSamples.Succeeded), JsonNode.Parse(run.Stdout)));
        Assert.Equal(["queued (attempt 1)", "running (attempt 1)", "success (attempt 1)"], Lines(run.Stderr));
    }

    [Fact]
    public async Task ExecGetWatch_RecordDisappears_PrintsTheProblemAndExitsOne()
    {
        var calls = 0;
        var http = new StubHttpHandler(_ => calls++ == 0
            ? Json(HttpStatusCode.OK, AsyncSamples.Execution("queued"))
            : new HttpResponseMessage(HttpStatusCode.NotFound)
            {
                Content = new StringContent(AsyncSamples.ExecutionNotFound, Encoding.UTF8, "application/problem+json"),
            });

        var run = await RunFastAsync(http, "exec", "get", "ex-42", "--watch");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("queued (attempt 1)\n", run.Stdout);
        Assert.Equal("error: Execution not found: execution 'nope' does not exist (or has expired)\n", run.Stderr);
    }

    [Fact]
    public async Task ExecGetWatch_Cancelled_ExitsWithCancelledCode()
    {
        using var cts = new CancellationTokenSource();
        var http = new StubHttpHandler(_ =>
        {
            cts.Cancel();
            return Json(HttpStatusCode.OK, AsyncSamples.Execution("running"));
        });
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(stdout, stderr, null, http, _ => null) { WatchInterval = TimeSpan.FromMilliseconds(1) };

        var exit = await app.RunAsync(["exec", "get", "ex-42", "--watch"], cts.Token);

        Assert.Equal(130, exit);
        Assert.Equal("error: cancelled\n", stderr.ToString());
    }

    [Fact]
    public async Task ExecWithoutSubcommand_IsUsageError()
    {
        var run = await CliHarness.RunAsync(null, ["exec"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Single(Lines(run.Stderr));
        Assert.EndsWith("(see: tern exec --help)\n", run.Stderr);
    }

    // dead-letters

    [Fact]
    public async Task DeadLettersList_Table_PrintsOneRowEach()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.OK, AsyncSamples.DeadLetters);

        var run = await CliHarness.RunAsync(http, ["dead-letters", "list", "hello"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("http://127.0.0.1:8080/v1/functions/hello/dead-letters", Assert.Single(http.Requests).Uri.ToString());
        Assert.Equal(
            [
                "EXECUTION ID  ATTEMPT  ERROR CODE     FINISHED",
                "ex-1          4        HandlerFailed  2025-01-02 03:00:09Z",
                "ex-22         1        Timeout        2025-01-02 04:00:31Z",
            ], Lines(run.Stdout));
    }

    [Fact]
    public async Task DeadLettersList_Limit_IsSentAsQuery()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.OK, """{"deadLetters":[]}""");

        var run = await CliHarness.RunAsync(http, ["dead-letters", "list", "hello", "--limit", "5"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("http://127.0.0.1:8080/v1/functions/hello/dead-letters?limit=5", Assert.Single(http.Requests).Uri.ToString());
        Assert.Equal("EXECUTION ID  ATTEMPT  ERROR CODE  FINISHED\n", run.Stdout);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    public async Task DeadLettersList_LimitBelowOne_IsUsageError(string limit)
    {
        var http = StubHttpHandler.Json(HttpStatusCode.OK, AsyncSamples.DeadLetters);

        var run = await CliHarness.RunAsync(http, ["dead-letters", "list", "hello", "--limit", limit]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: --limit must be at least 1", run.Stderr);
        Assert.Empty(http.Requests);
    }

    [Fact]
    public async Task DeadLettersList_Yaml_PrintsTheWholeList()
    {
        var run = await CliHarness.RunAsync(StubHttpHandler.Json(HttpStatusCode.OK, AsyncSamples.DeadLetters), ["dead-letters", "list", "hello", "-o", "yaml"]);

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("deadLetters:\n- executionId: ex-1\n", run.Stdout);
    }

    [Fact]
    public async Task DeadLettersList_UnknownFunction_PrintsProblemAndExitsOne()
    {
        var run = await CliHarness.RunAsync(StubHttpHandler.Problem(HttpStatusCode.NotFound, Samples.NotFoundProblem), ["dead-letters", "list", "nope"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: Function not found: function 'nope' does not exist\n", run.Stderr);
    }

    [Fact]
    public async Task DeadLettersRedrive_PostsAndPrintsTheExecutionId()
    {
        var http = StubHttpHandler.Json(HttpStatusCode.Accepted, AsyncSamples.Execution("queued"));

        var run = await CliHarness.RunAsync(http, ["dead-letters", "redrive", "ex-42"]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(http.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://127.0.0.1:8080/v1/dead-letters/ex-42:redrive", request.Uri.ToString());
        Assert.Equal("ex-42\n", run.Stdout);
    }

    [Fact]
    public async Task DeadLettersRedrive_Json_PrintsTheRequeuedRecord()
    {
        var body = AsyncSamples.Execution("queued");
        var run = await CliHarness.RunAsync(StubHttpHandler.Json(HttpStatusCode.Accepted, body), ["dead-letters", "redrive", "ex-42", "-o", "json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(body), JsonNode.Parse(run.Stdout)));
    }

    [Fact]
    public async Task DeadLettersRedrive_NotADeadLetter_PrintsProblemAndExitsOne()
    {
        var http = StubHttpHandler.Problem(HttpStatusCode.NotFound,
            """{"title":"Dead letter not found","status":404,"detail":"execution 'ex-9' is not in a dead-letter list"}""");

        var run = await CliHarness.RunAsync(http, ["dead-letters", "redrive", "ex-9"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: Dead letter not found: execution 'ex-9' is not in a dead-letter list\n", run.Stderr);
    }

    [Fact]
    public async Task Help_ListsTheAsyncCommands()
    {
        var run = await CliHarness.RunAsync(null, ["--help"]);

        Assert.Contains("enqueue <NAME>", run.Stdout);
        Assert.Contains("exec, execution", run.Stdout);
        Assert.Contains("dead-letters, dlq", run.Stdout);
    }
}
