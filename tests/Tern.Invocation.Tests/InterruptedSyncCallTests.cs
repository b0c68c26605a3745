using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Tern.Testing;

namespace Tern.Invocation.Tests;

/// <summary>A sync call with an Idempotency-Key is running when the daemon is SIGKILLed. After the restart its record
/// must say Interrupted (not stay running for ever), and the caller's retry with the same key must run the call again
/// at once, not wait and get 409 "still running".</summary>
[Collection(CrashRecoveryCollection.Name)]
public sealed class InterruptedSyncCallTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "tern-interrupt-" + Guid.NewGuid().ToString("N"));
    private DaemonProcess? _daemon;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_daemon is not null) await _daemon.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Sigkill_DuringAnIdempotentSyncCall_RecordSaysInterrupted_AndARetryRunsAgain()
    {
        _daemon = await DaemonProcess.StartAsync(_dataDir);
        using (var http = new HttpClient { BaseAddress = _daemon.BaseAddress })
        {
            using var created = await http.PostAsJsonAsync("/v1/functions", new
            {
                name = "slow", runtime = "python", codeFileName = "main.py", timeoutMs = 20_000,
                code = Convert.ToBase64String("import json,sys,time\nev=json.load(open(sys.argv[1]))\ntime.sleep(ev.get('sleep',0))\nprint(json.dumps(ev))\n"u8.ToArray()),
            });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            var call = http.SendAsync(Invoke("""{"sleep":30}"""));
            // The record exists (running) once the call was admitted: wait for it in the database itself.
            await WaitUntilAsync(() => Statuses().Contains("running"), TimeSpan.FromSeconds(20));
            _daemon.Kill();
            await Assert.ThrowsAnyAsync<Exception>(() => call);
        }

        _daemon = await DaemonProcess.StartAsync(_dataDir);
        using var again = new HttpClient { BaseAddress = _daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var interrupted = Records().Single();
        Assert.Equal("error", (string?)interrupted["status"]);
        Assert.Equal("Interrupted", (string?)interrupted["error"]!["code"]);

        var watch = Stopwatch.StartNew();
        using var retried = await again.SendAsync(Invoke("""{"sleep":0,"second":true}"""));
        var body = JsonNode.Parse(await retried.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal("success", (string?)body["status"]);
        Assert.True((bool)body["output"]!["second"]!, "the retry must run anew, not replay the interrupted call");
        Assert.NotEqual((string?)interrupted["executionId"], (string?)body["executionId"]);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"the retry took {watch.Elapsed}");
    }

    private static HttpRequestMessage Invoke(string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/functions/slow:invoke") { Content = new StringContent(json) };
        request.Headers.Add("Idempotency-Key", "order-42");
        return request;
    }

    private List<JsonNode> Records()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_dataDir, "tern.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT record FROM executions WHERE function = 'slow' ORDER BY created_at";
        using var reader = command.ExecuteReader();
        var records = new List<JsonNode>();
        while (reader.Read()) records.Add(JsonNode.Parse(reader.GetString(0))!);
        return records;
    }

    private List<string> Statuses() => [.. Records().Select(r => (string)r["status"]!)];

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < within, "timed out");
            await Task.Delay(100);
        }
    }
}
