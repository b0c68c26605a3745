using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using Tern.Testing;
using Tern.Testing.Postgres;
using Xunit.Abstractions;

namespace Tern.Api.Tests.Hosting;

/// <summary>The real daemon (its own process) on a real Postgres store (TERN_STORE): what it stores survives a restart
/// on an empty data directory, so functions, code and records live in Postgres, not in the daemon's files.</summary>
public sealed class PostgresStoreDaemonTests(ITestOutputHelper log) : IAsyncLifetime
{
    private readonly List<string> _dataDirs = [];
    private readonly List<DaemonProcess> _daemons = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var daemon in _daemons) await daemon.DisposeAsync();
        foreach (var dir in _dataDirs)
            try { Directory.Delete(dir, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private string NewDataDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tern-pg-daemon-" + Guid.NewGuid().ToString("N"));
        _dataDirs.Add(dir);
        return dir;
    }

    private async Task<DaemonProcess> StartAsync(string store, string masterKey, bool expectReady = true)
    {
        var daemon = await DaemonProcess.StartAsync(NewDataDir(),
            new Dictionary<string, string> { ["TERN_STORE"] = store, ["TERN_MASTER_KEY"] = masterKey }, expectReady: expectReady);
        _daemons.Add(daemon);
        return daemon;
    }

    [Fact]
    public async Task RegisterInvokeSyncAndAsync_RestartOnAnEmptyDataDir_EverythingIsStillThere()
    {
        var store = PostgresTestCluster.ToUrl(await PostgresTestCluster.CreateDatabaseAsync(nameof(PostgresStoreDaemonTests)));
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)); // daemons sharing a store share the key
        var first = await StartAsync(store, key);
        string asyncId;
        using (var http = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromSeconds(60) })
        {
            using var created = await http.PostAsJsonAsync("/v1/functions", new
            {
                name = "pg-echo", runtime = "python", codeFileName = "main.py",
                code = Convert.ToBase64String("import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))\n"u8.ToArray()),
            });
            Assert.True(created.IsSuccessStatusCode, $"create: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            using var secret = await http.PutAsJsonAsync("/v1/secrets/pg_token", new { value = "s3cret", functions = new[] { "pg-echo" } });
            Assert.True(secret.IsSuccessStatusCode, $"secret: {(int)secret.StatusCode} {await secret.Content.ReadAsStringAsync()}");

            Assert.Equal(1, (int?)(await InvokeAsync(http, """{"n":1}"""))["output"]?["n"]);
            asyncId = await EnqueueAsync(http, """{"n":2}""");
            Assert.Equal(2, (int?)(await WaitTerminalAsync(http, asyncId))["output"]?["n"]);
        }
        Assert.True(first.Terminate(TimeSpan.FromSeconds(15)), "the daemon did not stop on SIGTERM");
        Assert.False(File.Exists(Path.Combine(_dataDirs[0], "tern.db")), "a Postgres daemon wrote a SQLite file");

        // A new daemon with nothing on disk: the function, its code, the records and the secret come from Postgres.
        var second = await StartAsync(store, key);
        using (var http = new HttpClient { BaseAddress = second.BaseAddress, Timeout = TimeSpan.FromSeconds(60) })
        {
            var function = JsonNode.Parse(await http.GetStringAsync("/v1/functions/pg-echo"))!;
            Assert.Equal("python", (string?)function["runtime"]);
            var record = JsonNode.Parse(await http.GetStringAsync($"/v1/executions/{asyncId}"))!;
            Assert.Equal(("success", 2), ((string?)record["status"], (int?)record["output"]?["n"]));
            var listed = JsonNode.Parse(await http.GetStringAsync("/v1/executions?function=pg-echo"))!;
            Assert.Equal(2, listed["executions"]!.AsArray().Count);
            Assert.Equal(["pg_token"], JsonNode.Parse(await http.GetStringAsync("/v1/secrets"))!["secrets"]!.AsArray().Select(s => (string?)s!["name"]));

            JsonObject third;
            try { third = await InvokeAsync(http, """{"n":3}"""); } // code materialised from Postgres
            catch (Exception) { log.WriteLine(second.RecentOutput); throw; }
            Assert.Equal(3, (int?)third["output"]?["n"]);
            var again = await EnqueueAsync(http, """{"n":4}""");
            Assert.Equal(4, (int?)(await WaitTerminalAsync(http, again))["output"]?["n"]);
        }
    }

    [Fact]
    public async Task AStoreThatDoesNotAnswer_IsOneLogLineAnd503Readiness_NotACrash()
    {
        var daemon = await StartAsync("postgres://tern:pw@127.0.0.1:1/tern", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), expectReady: false);
        using var http = new HttpClient { BaseAddress = daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };

        await Task.Delay(TimeSpan.FromSeconds(5)); // a couple of retries
        using var ready = await http.GetAsync("/healthz/ready");
        var body = await ready.Content.ReadAsStringAsync();
        using var api = await http.GetAsync("/v1/functions");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("postgres://127.0.0.1:1/tern does not answer", body);
        Assert.DoesNotContain(":pw@", body);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, api.StatusCode);
        Assert.False(daemon.HasExited);
        log.WriteLine(daemon.RecentOutput);
        Assert.Single(daemon.RecentOutput.Split('\n'), line => line.Contains("does not answer"));
    }

    [Fact]
    public async Task AStoreThatAnswersLater_TheDaemonStartsOnTheAddressItWaitedOn()
    {
        var real = new NpgsqlConnectionStringBuilder(await PostgresTestCluster.CreateDatabaseAsync("late"));
        await using var late = new LatePostgres(real.Port);
        var daemon = await StartAsync($"postgres://{real.Username}@127.0.0.1:{late.Port}/{real.Database}",
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), expectReady: false);
        using var http = new HttpClient { BaseAddress = daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.TrueAsync(async () =>
        {
            try { return (await http.GetAsync("/healthz/ready")).StatusCode == HttpStatusCode.ServiceUnavailable; }
            catch (HttpRequestException) { return false; } // not listening yet
        }, "readiness 503 while the store is down", 30_000);

        late.Open();
        await Eventually.TrueAsync(async () =>
        {
            try { return (await http.GetAsync("/healthz/ready")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; } // between the waiting server and the daemon
        }, "readiness 200 on the same address once the store answers", 30_000);
        using var created = await http.PostAsJsonAsync("/v1/functions", new
        {
            name = "pg-echo", runtime = "python", codeFileName = "main.py",
            code = Convert.ToBase64String("import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))\n"u8.ToArray()),
        });
        Assert.True(created.IsSuccessStatusCode, $"create: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        Assert.Equal(5, (int?)(await InvokeAsync(http, """{"n":5}"""))["output"]?["n"]);
        log.WriteLine(daemon.RecentOutput);
        Assert.Single(daemon.RecentOutput.Split('\n'), line => line.Contains("does not answer"));
    }

    [Fact]
    public async Task ABadConnectionString_StopsTheStartWithOneClearLine()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            StartAsync("Host=h;Colour=blue", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));
        Assert.Contains("daemon.store", e.Message);
        Assert.Contains("not a usable Postgres connection string", e.Message);
    }

    private static async Task<JsonObject> InvokeAsync(HttpClient http, string eventJson)
    {
        using var response = await http.PostAsync("/v1/functions/pg-echo:invoke", new StringContent(eventJson, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"invoke: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task<string> EnqueueAsync(HttpClient http, string eventJson)
    {
        using var response = await http.PostAsync("/v1/functions/pg-echo:enqueue", new StringContent(eventJson, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"enqueue: {(int)response.StatusCode} {text}");
        return (string)JsonNode.Parse(text)!["executionId"]!;
    }

    private static async Task<JsonObject> WaitTerminalAsync(HttpClient http, string id)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var record = JsonNode.Parse(await http.GetStringAsync($"/v1/executions/{id}"))!.AsObject();
            if ((string?)record["status"] is "success" or "error" or "timeout") return record;
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"execution {id} is still {record["status"]}");
            await Task.Delay(50);
        }
    }
}
