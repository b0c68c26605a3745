using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tern.Invocation.Async;
using Tern.Invocation.Callbacks;
using Tern.Testing;

namespace Tern.Invocation.Tests.Async;

/// <summary>A real daemon whose retries back off from 50 ms, so retry tests take a second, not minutes. Callbacks may
/// reach the test's own listener on loopback (the operator's allow-list; by default loopback is refused).</summary>
public sealed class QuickRetryDaemonFixture : DaemonFixture
{
    public override Task InitializeAsync() => StartAsync(s =>
    {
        s.Configure<AsyncOptions>(o => o.BaseBackoff = TimeSpan.FromMilliseconds(50));
        s.Configure<CallbackOptions>(o => o.Allow = ["127.0.0.1"]);
    });
}

public sealed class AsyncInvocationTests(QuickRetryDaemonFixture daemon) : IClassFixture<QuickRetryDaemonFixture>
{
    private static byte[] Py(string source) => Encoding.UTF8.GetBytes(source);

    private const string Echo = "import json, sys\nprint(json.dumps(json.load(open(sys.argv[1]))))\n";

    private async Task<(HttpResponseMessage Response, JsonObject? Body)> EnqueueAsync(string name, string body, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/functions/{name}:enqueue") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        configure?.Invoke(request);
        var response = await daemon.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length > 0 ? JsonNode.Parse(text)?.AsObject() : null);
    }

    [Fact]
    public async Task Enqueue_Returns202Queued_ThenTheRecordReachesSuccess()
    {
        await daemon.CreateOkAsync("async-echo", "python", Py(Echo), "main.py");
        var (response, body) = await EnqueueAsync("async-echo", "{\"n\":42}");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("queued", (string?)body!["status"]);
        var id = (string)body["executionId"]!;
        Assert.Equal(id, response.Headers.GetValues("X-Execution-Id").Single());

        var record = await daemon.WaitTerminalAsync(id);
        Assert.Equal("success", (string?)record["status"]);
        Assert.Equal(42, (int)record["output"]!["n"]!);
        Assert.Equal("async-echo", (string?)record["function"]);
        Assert.Equal(1, (int)record["attempt"]!);
        Assert.NotNull((string?)record["startedAt"]);
        Assert.NotNull((string?)record["finishedAt"]);
    }

    [Fact]
    public async Task SyncInvoke_LeavesARecord()
    {
        await daemon.CreateOkAsync("async-sync", "python", Py(Echo), "main.py");
        var result = await daemon.InvokeAsync("async-sync", "{\"k\":\"v\"}");
        var record = JsonNode.Parse(await daemon.Client.GetStringAsync($"/v1/executions/{result["executionId"]}"))!;
        Assert.Equal("success", (string?)record["status"]);
        Assert.Equal("v", (string?)record["output"]!["k"]);
    }

    [Fact]
    public async Task GetExecution_Unknown_Returns404Problem()
    {
        using var response = await daemon.Client.GetAsync("/v1/executions/no-such-id");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task FailingCall_IsRetriedWithTheSameId_ThenDeadLettered_AndRedriveRunsItAgain()
    {
        await daemon.CreateOkAsync("async-fail", "python", Py("import sys\nsys.exit('always fails')"), "main.py", new { maxRetries = 2 });
        var (_, body) = await EnqueueAsync("async-fail", "{}");
        var id = (string)body!["executionId"]!;

        var record = await daemon.WaitTerminalAsync(id);
        Assert.Equal("error", (string?)record["status"]);
        Assert.Equal(3, (int)record["attempt"]!); // the first run and two retries
        Assert.True((bool)record["deadLetter"]!);
        Assert.Contains("always fails", (string?)record["error"]!["message"]);

        // A record's read serves its last write while that write commits; a list reads only committed rows.
        await Eventually.TrueAsync(async () =>
            JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/functions/async-fail/dead-letters"))!["deadLetters"]!.AsArray()
                .Any(l => (string?)l!["executionId"] == id), "the dead letter to be listed");

        using var redrive = await daemon.Client.PostAsync($"/v1/dead-letters/{id}:redrive", null);
        Assert.Equal(HttpStatusCode.Accepted, redrive.StatusCode);
        var again = await daemon.WaitTerminalAsync(id);
        Assert.Equal(id, (string?)again["executionId"]);
        Assert.True((bool)again["deadLetter"]!);

        using var notDead = await daemon.Client.PostAsync("/v1/dead-letters/no-such-id:redrive", null);
        Assert.Equal(HttpStatusCode.NotFound, notDead.StatusCode);
    }

    [Fact]
    public async Task BurstBeyondConcurrencyPlusQueueSize_Gets429sNever5xx_AndAcceptedCallsAllFinish()
    {
        await daemon.CreateOkAsync("async-burst", "python", Py("import time\ntime.sleep(0.3)\nprint(1)"), "main.py",
            new { concurrency = 1, queueSize = 3 });
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => EnqueueAsync("async-burst", "{}")));
        Assert.All(responses, r => Assert.True(r.Response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.TooManyRequests, r.Response.StatusCode.ToString()));
        var rejected = responses.Where(r => r.Response.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(rejected);
        Assert.All(rejected, r =>
        {
            Assert.True(r.Response.Headers.Contains("Retry-After"));
            Assert.Equal("queue-full", r.Response.Headers.GetValues("X-Tern-Reject-Reason").Single());
        });
        var accepted = responses.Where(r => r.Response.StatusCode == HttpStatusCode.Accepted).Select(r => (string)r.Body!["executionId"]!).ToList();
        Assert.InRange(accepted.Count, 3, 5);
        foreach (var id in accepted) Assert.Equal("success", (string?)(await daemon.WaitTerminalAsync(id))["status"]);
    }

    [Fact]
    public async Task HotFunctionBacklog_DoesNotStarveAnotherFunction()
    {
        await daemon.CreateOkAsync("async-hot", "python", Py("import time\ntime.sleep(0.2)\nprint(1)"), "main.py",
            new { concurrency = 1, queueSize = 100 });
        await daemon.CreateOkAsync("async-cold", "python", Py("print(2)"), "main.py");
        var hot = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => EnqueueAsync("async-hot", "{}")));
        var (_, cold) = await EnqueueAsync("async-cold", "{}");

        var coldRecord = await daemon.WaitTerminalAsync((string)cold!["executionId"]!);
        Assert.Equal("success", (string?)coldRecord["status"]);
        var hotDone = 0;
        foreach (var (_, body) in hot)
        {
            var r = JsonNode.Parse(await daemon.Client.GetStringAsync($"/v1/executions/{body!["executionId"]}"))!;
            if ((string?)r["status"] == "success") hotDone++;
        }
        Assert.True(hotDone < 15, $"the other function waited for {hotDone} of the hot function's 20 calls");
    }

    [Fact]
    public async Task TraceHeaders_ReachTheHandlerAndComeBack()
    {
        await daemon.CreateOkAsync("async-trace", "python",
            Py("import json, os\nprint(json.dumps([os.environ.get('TERN_TRACE_ID'), os.environ.get('TRACEPARENT')]))"), "main.py");
        const string parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/functions/async-trace:invoke") { Content = new StringContent("{}") };
        request.Headers.Add("X-Trace-Id", "trace-abc");
        request.Headers.TryAddWithoutValidation("traceparent", parent);
        using var response = await daemon.Client.SendAsync(request);
        Assert.Equal("trace-abc", response.Headers.GetValues("X-Trace-Id").Single());
        Assert.Equal(parent, response.Headers.GetValues("traceparent").Single());
        var output = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["output"]!.AsArray();
        Assert.Equal("trace-abc", (string?)output[0]);
        Assert.Equal(parent, (string?)output[1]);

        var (enqueued, _) = await EnqueueAsync("async-trace", "{}");
        Assert.Equal(32, enqueued.Headers.GetValues("X-Trace-Id").Single().Length); // generated when absent
    }

    [Fact]
    public async Task CallbackUrl_ReceivesTheFinalRecord()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var received = ReceiveOnePostAsync(listener);

        await daemon.CreateOkAsync("async-callback", "python", Py(Echo), "main.py");
        var (response, body) = await EnqueueAsync("async-callback", "{\"cb\":1}",
            r => r.Headers.Add("X-Callback-Url", $"http://127.0.0.1:{port}/done"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var posted = JsonNode.Parse(await received.WaitAsync(TimeSpan.FromSeconds(30)))!;
        Assert.Equal((string?)body!["executionId"], (string?)posted["executionId"]);
        Assert.Equal("success", (string?)posted["status"]);
        Assert.Equal(1, (int)posted["output"]!["cb"]!);
    }

    [Fact]
    public async Task Enqueue_BadCallbackUrl_Returns400()
    {
        await daemon.CreateOkAsync("async-badcb", "python", Py(Echo), "main.py");
        var (response, _) = await EnqueueAsync("async-badcb", "{}", r => r.Headers.Add("X-Callback-Url", "ftp://nope"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>A minimal HTTP/1.1 server for one POST: returns its body and answers 200.</summary>
    private static async Task<string> ReceiveOnePostAsync(System.Net.Sockets.TcpListener listener)
    {
        using var client = await listener.AcceptTcpClientAsync();
        var stream = client.GetStream();
        var buffer = new byte[64 * 1024];
        var text = new StringBuilder();
        int contentLength = -1, headerEnd = -1;
        while (headerEnd < 0 || text.Length < headerEnd + contentLength)
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0) break;
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
            var s = text.ToString();
            if (headerEnd < 0 && s.IndexOf("\r\n\r\n", StringComparison.Ordinal) is var end and >= 0)
            {
                headerEnd = end + 4;
                var line = s[..end].Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                contentLength = int.Parse(line.Split(':')[1].Trim());
            }
        }
        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
        return text.ToString()[headerEnd..];
    }
}
