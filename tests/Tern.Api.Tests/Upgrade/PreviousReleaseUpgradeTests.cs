using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Api.Tests.Upgrade;

/// <summary>Today's daemon started on a data directory the previous release wrote (<see cref="PreviousRelease"/>): its
/// tables are migrated in place and everything the user had still works: the function and its code, versions and
/// the alias, the secret, the schedule, the API key (now an admin key) and the execution records.</summary>
public sealed class PreviousReleaseUpgradeTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "tern-upgrade-" + Guid.NewGuid().ToString("N"));
    private DaemonProcess _daemon = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        PreviousRelease.CopyTo(_dataDir);
        // The fixture's records finished on 2026-12-02: with the default retention (24 h) the janitor's first pass would
        // remove them, and this test is about the upgrade keeping them. The longest retention allowed holds to 2027-12.
        _daemon = await DaemonProcess.StartAsync(_dataDir, new Dictionary<string, string>
        {
            ["TERN_AUTH"] = "on", ["TERN_ASYNC_RECORD_TTL"] = "365.00:00:00",
        });
        _client = Client(PreviousRelease.ApiKey);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _daemon.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = _daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private async Task<JsonNode> GetJsonAsync(string path)
    {
        using var response = await _client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    private async Task<JsonNode> InvokeAsync(string target, string payload)
    {
        using var response = await _client.PostAsync($"/v1/functions/{target}:invoke", new StringContent(payload, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"invoke {target}: {(int)response.StatusCode} {body}");
        var result = JsonNode.Parse(body)!;
        Assert.True((string?)result["status"] == "success", body);
        return result["output"]!;
    }

    [Fact]
    public async Task FunctionVersionsAliasAndSecret_StillRun()
    {
        var latest = await InvokeAsync(PreviousRelease.Function, "{\"n\":9}");
        Assert.Equal(9, (int)latest["echo"]!["n"]!);
        Assert.Equal("v2", (string?)latest["mode"]);
        Assert.Equal(PreviousRelease.SecretValue, (string?)latest["secret"]);

        Assert.Equal("old", (string?)(await InvokeAsync($"{PreviousRelease.Function}:1", "{}"))["mode"]);
        Assert.Equal("v2", (string?)(await InvokeAsync($"{PreviousRelease.Function}:prod", "{}"))["mode"]);
        // Stored before "version" was renamed "revision": read from the old name, served under both.
        var function = await GetJsonAsync($"/v1/functions/{PreviousRelease.Function}");
        Assert.Equal(2, (int?)function["revision"]);
        Assert.Equal(2, (int?)function["version"]);
        var alias = await GetJsonAsync($"/v1/functions/{PreviousRelease.Function}/aliases/prod");
        Assert.Equal(1, (int?)alias["previousVersion"]); // so `tern rollback` still knows where to go back to
    }

    [Fact]
    public async Task Secret_KeepsBeingUsableByEveryFunction_AsBeforeScopes()
    {
        var secrets = (await GetJsonAsync("/v1/secrets"))["secrets"]!.AsArray();
        var secret = Assert.Single(secrets, s => (string?)s!["name"] == "DB_PASSWORD")!;
        Assert.Equal(["*"], secret["functions"]!.AsArray().Select(f => (string?)f));
    }

    [Fact]
    public async Task ApiKey_StillAuthenticates_AsAnAdminWithItsRateLimit()
    {
        var keys = (await GetJsonAsync("/v1/api-keys"))["apiKeys"]!.AsArray();
        var ci = Assert.Single(keys, k => (string?)k!["name"] == "ci")!;
        Assert.Equal("admin", (string?)ci["role"]);
        Assert.Equal(50, (int?)ci["rateLimitPerSecond"]);
        using var stranger = Client("tern_" + new string('x', 43));
        using var refused = await stranger.GetAsync("/v1/functions");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task ScheduleAndExecutionRecords_AreKept()
    {
        var schedules = (await GetJsonAsync($"/v1/schedules?function={PreviousRelease.Function}"))["schedules"]!.AsArray();
        var nightly = Assert.Single(schedules)!;
        Assert.Equal("0 3 * * *", (string?)nightly["expression"]);
        Assert.Equal("Europe/Paris", (string?)nightly["timezone"]);

        var async = await GetJsonAsync("/v1/executions/" + PreviousRelease.AsyncExecutionId);
        Assert.Equal("success", (string?)async["status"]);
        Assert.Equal(3, (int)async["output"]!["echo"]!["n"]!);
    }

    [Fact]
    public async Task SecondStart_OnTheMigratedDirectory_IsAnOrdinaryStart()
    {
        Assert.True(_daemon.Terminate(TimeSpan.FromSeconds(15)), "the daemon did not stop on SIGTERM");
        await using var again = await DaemonProcess.StartAsync(_dataDir, new Dictionary<string, string> { ["TERN_AUTH"] = "on" });
        using var client = new HttpClient { BaseAddress = again.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PreviousRelease.ApiKey);
        using var response = await client.GetAsync($"/v1/functions/{PreviousRelease.Function}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task DatabaseFromANewerTern_StopsTheDaemonWithOneClearLine()
    {
        Assert.True(_daemon.Terminate(TimeSpan.FromSeconds(15)), "the daemon did not stop on SIGTERM");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dataDir, "tern.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE schema_versions SET version = 99 WHERE store = 'functions'";
            Assert.Equal(1, command.ExecuteNonQuery());
        }
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { DaemonProcess.TernDll, "daemon", "--listen", "127.0.0.1:0", "--data-dir", _dataDir }) psi.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(1, process.ExitCode);
        var error = (await stderr).Trim();
        Assert.Equal("tern: cannot start: the database's 'functions' schema is version 99, but this Tern knows up to version 1; run the newer Tern, or restore a backup", error);
        Assert.DoesNotContain("   at ", await stdout);
    }
}
