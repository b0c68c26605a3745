using System.Collections.Concurrent;
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

/// <summary>Two real daemons (their own processes) on one real Postgres: async calls are claimed with leases, so each
/// attempt runs on one daemon, and the calls of a daemon killed outright are run by the other once their leases
/// expire; schedules fire from one leader at a time. The handler prints "ran ID" to stderr on every run, which the
/// daemon that ran it keeps in the store's log table: that is how the test counts the handler's runs per call.</summary>
public sealed class MultiDaemonPostgresTests(ITestOutputHelper log) : IAsyncLifetime
{
    private const string Function = "md-work";
    private const string Handler = """
        import time, sys
        def handler(event, context):
            print("ran", context.aws_request_id, file=sys.stderr)
            time.sleep(event.get("sleep", 0))
            return {"n": event.get("n")}
        """;

    private readonly List<string> _dataDirs = [];
    private readonly List<DaemonProcess> _daemons = [];
    private readonly string _key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)); // daemons sharing a store share the key
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await PostgresTestCluster.CreateDatabaseAsync(nameof(MultiDaemonPostgresTests));

    public async Task DisposeAsync()
    {
        foreach (var daemon in _daemons) await daemon.DisposeAsync();
        foreach (var dir in _dataDirs)
            try { Directory.Delete(dir, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task TwoDaemons_2000Enqueues_OneKilledPartway_EveryAcceptedCallFinishes_NoneRunTwiceUnlessItsDaemonDied()
    {
        var a = await StartDaemonAsync();
        var b = await StartDaemonAsync();
        using var httpA = Client(a);
        using var httpB = Client(b);
        await CreateFunctionAsync(httpA);

        // 2,000 enqueues, alternating between the daemons, 16 at a time; A is killed after 600 acceptances, and what
        // would have gone to A goes to B from then on.
        var accepted = new ConcurrentBag<string>();
        var killed = 0;
        HashSet<string> heldByA = [];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < 2000)
            {
                var toA = n % 2 == 0 && Volatile.Read(ref killed) == 0;
                var id = await TryEnqueueAsync(toA ? httpA : httpB, n);
                if (id is null && toA) id = await TryEnqueueAsync(httpB, n); // A died under this request
                Assert.NotNull(id);
                accepted.Add(id);
                if (accepted.Count >= 600 && Interlocked.Exchange(ref killed, 1) == 0)
                {
                    a.Kill();
                    heldByA = await HeldByAsync(a.Pid);
                }
            }
        }));
        log.WriteLine($"2000 accepted in {clock.ElapsedMilliseconds} ms; A held {heldByA.Count} calls when it was killed");
        Assert.Equal(2000, accepted.Distinct().Count());

        // Every accepted call finishes, once, successfully on its first attempt (the handler never fails; a call cut
        // short by the kill runs again under the same attempt, as after any crash).
        var ids = accepted.ToArray();
        var records = await WaitAllFinishedAsync(ids, TimeSpan.FromSeconds(75));
        log.WriteLine($"all finished after {clock.ElapsedMilliseconds} ms");
        Assert.All(records.Values, r => Assert.Equal(("success", 1), (r.Status, r.Attempt)));
        Assert.True(heldByA.Count > 0, "A held no calls when it was killed: the test did not test failover");
        Assert.All(heldByA, id => Assert.True(records.ContainsKey(id) || !ids.Contains(id)));

        var finishedByB = records.Where(r => r.Value.ClaimedBy?.Contains($":{b.Pid}:", StringComparison.Ordinal) == true).Select(r => r.Key).ToList();
        Assert.True(finishedByB.Count > 1000, $"B finished only {finishedByB.Count}");
        // B's log lines reach the store about 100 ms after each call, later on a loaded machine: wait until they are all there.
        var runs = new Dictionary<string, int>();
        await Eventually.TrueAsync(async () =>
        {
            runs = await RunsPerCallAsync();
            return finishedByB.All(id => runs.GetValueOrDefault(id) >= 1);
        }, "B's log lines to reach the store", 20_000).ContinueWith(_ => { });
        Assert.All(finishedByB, id => Assert.True(runs.GetValueOrDefault(id) >= 1, $"{id}: B ran it but no run was recorded"));
        // A's last lines may have died with it, so runs can only be undercounted; a second run is allowed only for
        // the calls A held (claimed, not finished) when it was killed.
        var twice = runs.Where(r => r.Value > 1).Select(r => r.Key).ToList();
        Assert.All(twice, id => Assert.True(heldByA.Contains(id) && runs[id] == 2, $"{id} ran {runs[id]} times; held by A: {heldByA.Contains(id)}"));
        log.WriteLine($"{twice.Count} calls ran twice, all of them held by A at the kill");
    }

    [Fact]
    public async Task TwoDaemons_AScheduleFiresOncePerTick_AndKeepsFiringAfterItsLeaderIsKilled()
    {
        var a = await StartDaemonAsync();
        using var httpA = Client(a);
        await CreateFunctionAsync(httpA);
        using var created = await httpA.PostAsJsonAsync("/v1/schedules", new { function = Function, expression = "@every 1s", payload = new { n = 0 } });
        Assert.True(created.IsSuccessStatusCode, $"schedule: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        await Eventually.TrueAsync(async () => (await FiredAtAsync()).Count >= 1, "A (alone, so the leader) fired the schedule", 15_000);
        var b = await StartDaemonAsync(); // started second: A leads

        await Task.Delay(TimeSpan.FromSeconds(5));
        var killedAt = DateTimeOffset.UtcNow;
        a.Kill();
        await Task.Delay(TimeSpan.FromSeconds(8)); // B takes the lock within about 2 s of the server seeing A's session end
        Assert.False(b.HasExited);

        var fired = await FiredAtAsync();
        log.WriteLine(string.Join('\n', fired.Select(t => t.ToString("HH:mm:ss.fff"))));
        // Once per tick: every run the store holds was fired by one daemon for a tick no run was fired for before (each
        // daemon logs the tick it fired). A tick the new leader fires late may come just before the next one on time.
        var dues = FiredDues(a).Concat(FiredDues(b)).ToList();
        Assert.Equal(fired.Count, dues.Count);
        Assert.Equal(dues.Count, dues.Distinct().Count());
        var span = fired[^1] - fired[0];
        Assert.True(fired.Count <= (int)Math.Round(span.TotalSeconds) + 1, $"{fired.Count} runs in {span.TotalSeconds:F1} s");
        // And it kept firing after the kill: from B, with at most a few ticks lost to the takeover.
        var after = fired.Count(t => t > killedAt + TimeSpan.FromSeconds(4));
        Assert.True(after >= 3, $"only {after} runs in the last 4 s after the leader was killed");
    }

    /// <summary>A daemon starting on a shared store must not take another daemon's running (idempotent) sync call for one a
    /// crash cut short: the call goes on and answers, and its record is the answer's, not Interrupted.</summary>
    [Fact]
    public async Task ADaemonStartingMeanwhile_LeavesAnotherDaemonsRunningSyncCallAlone()
    {
        var first = await StartDaemonAsync();
        using var http = Client(first);
        http.Timeout = TimeSpan.FromSeconds(60);
        await CreateFunctionAsync(http);
        // With an Idempotency-Key the call is recorded as running when admitted (without one, only when it ends).
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/functions/{Function}:invoke")
        {
            Content = new StringContent("""{"n":7,"sleep":15}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", "order-7");
        var call = http.SendAsync(request);
        await Eventually.TrueAsync(async () =>
        {
            if (call.IsCompleted) Assert.Fail($"the call ended before it was seen running: {(int)(await call).StatusCode} {await (await call).Content.ReadAsStringAsync()}");
            return await RunningSyncCallsAsync() == 1;
        }, "the sync call is recorded as running", 30_000);

        await StartDaemonAsync(); // its start sweeps sync calls cut short: this one is alive and within its timeout
        Assert.False(call.IsCompleted, "the call ended before the second daemon had started: nothing was checked");
        Assert.Equal(1, await RunningSyncCallsAsync()); // not finished as Interrupted (which also released its key)

        using var answer = await call;
        var text = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"invoke: {(int)answer.StatusCode} {text}");
        var id = (string)JsonNode.Parse(text)!["executionId"]!;
        using var record = await http.GetAsync($"/v1/executions/{id}");
        var stored = JsonNode.Parse(await record.Content.ReadAsStringAsync())!;
        Assert.Equal("success", (string?)stored["status"]);
        Assert.Equal(7, (int?)stored["output"]?["n"]);
    }

    private async Task<long> RunningSyncCallsAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM executions WHERE status = 'running' AND async = 0", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<DaemonProcess> StartDaemonAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tern-md-" + Guid.NewGuid().ToString("N"));
        _dataDirs.Add(dir);
        var daemon = await DaemonProcess.StartAsync(dir, new Dictionary<string, string>
        {
            ["TERN_STORE"] = PostgresTestCluster.ToUrl(_connectionString), ["TERN_MASTER_KEY"] = _key,
            ["TERN_RATE_LIMIT"] = "0", ["TERN_ASYNC_LEASE_DURATION"] = "00:00:03", ["TERN_ASYNC_CLAIM_INTERVAL"] = "00:00:00.200",
            ["Logging__LogLevel__Tern.Invocation.Scheduling.SchedulerService"] = "Information", // its "fired" lines
        });
        _daemons.Add(daemon);
        return daemon;
    }

    private static HttpClient Client(DaemonProcess daemon) => new() { BaseAddress = daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    private static async Task CreateFunctionAsync(HttpClient http)
    {
        using var created = await http.PostAsJsonAsync("/v1/functions", new
        {
            name = Function, runtime = "python", mode = "persistent", handler = "main.handler", codeFileName = "main.py",
            code = Convert.ToBase64String(Encoding.UTF8.GetBytes(Handler)), concurrency = 4, queueSize = 5000,
        });
        Assert.True(created.IsSuccessStatusCode, $"create: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
    }

    /// <summary>The call's id when the daemon accepted it (202); null when the daemon could not be reached.</summary>
    private static async Task<string?> TryEnqueueAsync(HttpClient http, int n)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsync($"/v1/functions/{Function}:enqueue",
                new StringContent($$"""{"n":{{n}},"sleep":0.05}""", Encoding.UTF8, "application/json"));
        }
        catch (HttpRequestException)
        {
            return null;
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"enqueue: {(int)response.StatusCode} {text}");
            return (string)JsonNode.Parse(text)!["executionId"]!;
        }
    }

    private sealed record Row(string Status, int Attempt, string? ClaimedBy);

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Calls a killed daemon held: claimed by it (its process id is in the owner name) and still leased.</summary>
    private async Task<HashSet<string>> HeldByAsync(int pid)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT execution_id FROM executions WHERE claimed_by LIKE $1 AND lease_until IS NOT NULL", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"%:{pid}:%" });
        var held = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) held.Add(reader.GetString(0));
        return held;
    }

    private async Task<Dictionary<string, Row>> WaitAllFinishedAsync(string[] ids, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await using var connection = await OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT execution_id, status, (record::json->>'attempt')::int, claimed_by FROM executions WHERE execution_id = ANY($1)", connection);
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ids });
            var rows = new Dictionary<string, Row>(StringComparer.Ordinal);
            await using (var reader = await command.ExecuteReaderAsync())
                while (await reader.ReadAsync())
                    rows[reader.GetString(0)] = new Row(reader.GetString(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3));
            var open = ids.Count(id => !rows.TryGetValue(id, out var r) || r.Status is "queued" or "running");
            if (open == 0) return rows;
            if (clock.Elapsed > timeout) throw new TimeoutException($"{open} of {ids.Length} accepted calls did not finish");
            await Task.Delay(250);
        }
    }

    /// <summary>"ran ID" lines per call (by the ID the handler printed), as the daemons that ran the handler stored them.</summary>
    private async Task<Dictionary<string, int>> RunsPerCallAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT split_part(text, ' ', 2), count(*)::int FROM logs WHERE function = $1 AND text LIKE 'ran %' GROUP BY 1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Function });
        var runs = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) runs[reader.GetString(0)] = reader.GetInt32(1);
        return runs;
    }

    /// <summary>When each scheduled run was enqueued, oldest first.</summary>
    /// <summary>The ticks a daemon says it fired (its log's "schedule fired" lines, JSON on a redirected console).</summary>
    private static List<string> FiredDues(DaemonProcess daemon) =>
        daemon.RecentOutput.Split('\n')
            .Where(line => line.StartsWith('{') && line.Contains("\"EventId\":1200,", StringComparison.Ordinal))
            .Select(line => (string)JsonNode.Parse(line)!["State"]!["Due"]!)
            .ToList();

    private async Task<List<DateTimeOffset>> FiredAtAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand("SELECT created_at FROM executions WHERE function = $1 ORDER BY created_at", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Function });
        var fired = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) fired.Add(new DateTimeOffset(reader.GetInt64(0), TimeSpan.Zero));
        return fired;
    }
}
