using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Api.Tests.Logs;

/// <summary>GET /v1/functions/{name}/logs (stored and followed) and the daemon's requests.jsonl, against a real daemon.</summary>
public sealed class LogsEndpointTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static readonly byte[] PersistentLogger = Encoding.UTF8.GetBytes("""
        import sys
        def handler(event, context):
            print(f"hello {event['n']}", file=sys.stderr)
            print(f"done {event['n']}", file=sys.stderr, flush=True)
            return {"n": event["n"]}
        """);

    private static readonly byte[] ProcessLogger = Encoding.UTF8.GetBytes("""
        import json, sys
        print("log: working on it", file=sys.stderr)
        print("log: almost there", file=sys.stderr)
        print(json.dumps({"ok": True}))
        """);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Lines are stored just after the call returns (off the call path): poll until <paramref name="until"/> holds.</summary>
    private async Task<JsonArray> LinesAsync(string query, Func<JsonArray, bool> until)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var body = JsonNode.Parse(await daemon.Client.GetStringAsync(query))!.AsObject();
            var lines = body["lines"]!.AsArray();
            if (until(lines) || DateTime.UtcNow > deadline) return lines;
            await Task.Delay(50);
        }
    }

    private static List<string> Texts(JsonArray lines) => lines.Select(l => (string)l!["text"]!).ToList();

    [Fact]
    public async Task PersistentPython_StderrLines_ComeBackWithTheirExecutionId_AndFilterAndTailWork()
    {
        await daemon.CreateOkAsync("logs-py", "python", PersistentLogger, "app.py", new { mode = "persistent", handler = "app.handler" });
        var first = (string)(await daemon.InvokeAsync("logs-py", """{"n": 1}"""))["executionId"]!;
        var second = (string)(await daemon.InvokeAsync("logs-py", """{"n": 2}"""))["executionId"]!;

        // Each call's lines are stored when it ends, off the call path, so the second call's may land first: wait for both.
        var all = await LinesAsync("/v1/functions/logs-py/logs", l => Texts(l).Contains("done 1") && Texts(l).Contains("done 2"));
        Assert.Equal(["hello 1", "done 1", "hello 2", "done 2"], Texts(all));
        Assert.All(all, l => Assert.Equal("stderr", (string?)l!["stream"]));
        Assert.Equal([first, first, second, second], all.Select(l => (string)l!["executionId"]!).ToList());
        Assert.All(all, l => Assert.True(DateTimeOffset.TryParse((string?)l!["time"], out _)));

        var onlyFirst = await LinesAsync($"/v1/functions/logs-py/logs?executionId={first}", _ => true);
        Assert.Equal(["hello 1", "done 1"], Texts(onlyFirst));

        var tail = await LinesAsync("/v1/functions/logs-py/logs?tail=1", _ => true);
        Assert.Equal(["done 2"], Texts(tail));

        var future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"));
        Assert.Empty(await LinesAsync($"/v1/functions/logs-py/logs?since={future}", _ => true));
        var past = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"));
        Assert.Equal(4, (await LinesAsync($"/v1/functions/logs-py/logs?since={past}", _ => true)).Count);
    }

    [Fact]
    public async Task ProcessMode_NonJsonStderrLogs_AreKept_AndTheResultStaysJsonWithoutTails()
    {
        await daemon.CreateOkAsync("logs-proc", "python", ProcessLogger, "main.py");
        var result = await daemon.InvokeAsync("logs-proc");
        Assert.Equal("success", (string?)result["status"]);
        Assert.True((bool)result["output"]!["ok"]!);
        Assert.False(result.ContainsKey("stderrTail"));
        Assert.False(result.ContainsKey("stdoutTail"));
        var id = (string)result["executionId"]!;

        var lines = await LinesAsync($"/v1/functions/logs-proc/logs?executionId={id}", l => l.Count >= 2);
        var stderr = lines.Where(l => (string?)l!["stream"] == "stderr").Select(l => (string)l!["text"]!).ToList();
        Assert.Equal(["log: working on it", "log: almost there"], stderr);
        // On success stdout is the result (in the execution record), not a log line.
        Assert.DoesNotContain(lines, l => (string?)l!["stream"] == "stdout");
        Assert.All(lines, l => Assert.Equal(id, (string?)l!["executionId"]));
    }

    [Fact]
    public async Task Follow_ReceivesALineFromAnInvocationMadeAfterSubscribing()
    {
        await daemon.CreateOkAsync("logs-follow", "python", PersistentLogger, "app.py", new { mode = "persistent", handler = "app.handler" });
        await daemon.InvokeAsync("logs-follow", """{"n": 0}"""); // warm, and a line that must not be replayed

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/functions/logs-follow/logs");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await daemon.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        Assert.StartsWith(":", await reader.ReadLineAsync(timeout.Token)); // the greeting comment: subscribed

        var id = (string)(await daemon.InvokeAsync("logs-follow", """{"n": 7}"""))["executionId"]!;
        var seen = new List<JsonNode>();
        while (seen.Count < 2)
        {
            var line = await reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("the stream ended");
            if (line.StartsWith("data:", StringComparison.Ordinal)) seen.Add(JsonNode.Parse(line[5..])!);
        }
        Assert.Equal(["hello 7", "done 7"], seen.Select(l => (string)l["text"]!).ToList());
        Assert.All(seen, l => Assert.Equal(id, (string?)l["executionId"]));
    }

    [Fact]
    public async Task UnknownFunction_Is404Problem_AndBadQueryIs400()
    {
        using var missing = await daemon.Client.GetAsync("/v1/functions/no-such-fn/logs");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);

        await daemon.CreateOkAsync("logs-bad", "python", ProcessLogger, "main.py");
        using var badTail = await daemon.Client.GetAsync("/v1/functions/logs-bad/logs?tail=x");
        Assert.Equal(HttpStatusCode.BadRequest, badTail.StatusCode);
        using var badSince = await daemon.Client.GetAsync("/v1/functions/logs-bad/logs?since=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, badSince.StatusCode);
    }

    [Fact]
    public async Task RequestLog_HasOneJsonLinePerRequest_AndNoBodyText()
    {
        const string Marker = "body-marker-9f3c1e7a-never-logged";
        await daemon.CreateOkAsync("logs-req", "python", ProcessLogger, "main.py");
        using var invoke = await daemon.Client.PostAsync("/v1/functions/logs-req:invoke",
            new StringContent($$"""{"secret": "{{Marker}}"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, invoke.StatusCode);
        var id = invoke.Headers.GetValues("X-Execution-Id").Single();
        using var notFound = await daemon.Client.GetAsync("/v1/functions/nope-req");

        var path = Path.Combine(daemon.DataDir, "logs", "requests.jsonl");
        var deadline = DateTime.UtcNow + Patience;
        string text;
        while (true)
        {
            text = File.Exists(path) ? await ReadSharedAsync(path) : "";
            if (text.Contains(id) && text.Contains("/v1/functions/nope-req") || DateTime.UtcNow > deadline) break;
            await Task.Delay(50);
        }
        Assert.DoesNotContain(Marker, text);
        var entries = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.All(entries, e =>
        {
            Assert.False(string.IsNullOrEmpty((string?)e["method"]));
            Assert.StartsWith("/", (string?)e["path"]);
            Assert.True((int)e["status"]! >= 100);
            Assert.True((double)e["durationMs"]! >= 0);
            Assert.False(string.IsNullOrEmpty((string?)e["traceId"]));
        });
        var invoked = Assert.Single(entries, e => (string?)e["executionId"] == id);
        Assert.Equal("POST", (string?)invoked["method"]);
        Assert.Equal("/v1/functions/logs-req:invoke", (string?)invoked["path"]);
        Assert.Equal(200, (int)invoked["status"]!);
        Assert.Equal(invoke.Headers.GetValues("X-Trace-Id").Single(), (string?)invoked["traceId"]);
        var missing = Assert.Single(entries, e => (string?)e["path"] == "/v1/functions/nope-req");
        Assert.Equal(404, (int)missing["status"]!);
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
