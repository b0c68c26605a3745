using Tern.Testing;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Tern.Invocation.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CrashRecoveryCollection
{
    public const string Name = "crash recovery (a daemon process of its own, alone on the machine)";
}

/// <summary>Durability of :enqueue: 2,000 enqueues from 16 concurrent senders, the daemon SIGKILLed partway (sends in
/// flight), restarted on the same data directory; every call that got a 202 must then finish successfully with its
/// record intact (same input echoed back). The daemon is a separate process so the kill is a real crash.</summary>
[Collection(CrashRecoveryCollection.Name)]
public sealed class CrashRecoveryTests(ITestOutputHelper log) : IAsyncLifetime
{
    private const string Function = "crash-echo";
    private const int Events = 2000;
    private const int Senders = 16;
    private const int KillAfterAccepted = 1050;
    private static readonly TimeSpan RecoveryBudget = TimeSpan.FromSeconds(120);

    private static readonly Dictionary<string, string> DaemonEnvironment = new() { ["TERN_RATE_LIMIT"] = "0" };

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "tern-crash-" + Guid.NewGuid().ToString("N"));
    private DaemonProcess? _daemon;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_daemon is not null) await _daemon.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static string EventJson(int n) => $$$"""{"n":{{{n}}},"tag":"crash-{{{n}}}","nested":{"values":[{{{n}}},{{{n * 2}}}]}}""";

    [Fact]
    public async Task Sigkill_DuringEnqueueBurst_EveryAcceptedCallFinishesWithItsRecordIntact()
    {
        var total = Stopwatch.StartNew();
        _daemon = await DaemonProcess.StartAsync(_dataDir, DaemonEnvironment);
        using (var http = new HttpClient { BaseAddress = _daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(30) })
        {
            using var created = await http.PostAsJsonAsync("/v1/functions", new
            {
                name = Function, runtime = "python", codeFileName = "main.py",
                code = Convert.ToBase64String("import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))\n"u8.ToArray()),
                concurrency = 8, queueSize = 5000, maxRetries = 3,
            });
            Assert.True(created.IsSuccessStatusCode, $"create: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }
        log.WriteLine($"daemon pid {_daemon.Pid} ready and function registered at {total.Elapsed.TotalSeconds:0.0}s");

        // 1. The burst, and the kill in the middle of it.
        var send = await SendWithCrashAsync(_daemon);
        log.WriteLine($"sent {send.Attempted} of {Events}: {send.Accepted.Count} accepted (202) before the kill, {send.Failed} failed " +
                      $"(connection errors after the kill), {send.Throttled} throttled (429, retried); killed at {send.KilledAt.TotalSeconds:0.0}s " +
                      $"into the burst, {send.AcceptedAtKill} accepted at that moment");
        Assert.Empty(send.Unexpected);
        Assert.True(send.Accepted.Count > 1000, $"only {send.Accepted.Count} enqueues were accepted before the kill");
        Assert.True(send.Failed > 0, "the kill should have cut some sends short (it came too late to test anything)");

        // 2. A new daemon on the same data directory resumes what the dead one accepted.
        var restart = Stopwatch.StartNew();
        _daemon = await DaemonProcess.StartAsync(_dataDir, DaemonEnvironment);
        log.WriteLine($"restarted as pid {_daemon.Pid} in {restart.Elapsed.TotalSeconds:0.0}s");

        // 3. Every accepted call reaches a terminal status, and its record is the call that was sent.
        var records = await PollUntilTerminalAsync(_daemon, send.Accepted.Keys, RecoveryBudget);
        log.WriteLine($"all polled in {restart.Elapsed.TotalSeconds:0.0}s after the restart; whole test {total.Elapsed.TotalSeconds:0.0}s");

        var problems = new List<string>();
        var attempts = new Dictionary<int, int>();
        foreach (var (id, n) in send.Accepted)
        {
            if (!records.TryGetValue(id, out var record) || record is null)
            {
                problems.Add($"{id} (event {n}): no record (404)");
                continue;
            }
            var status = (string?)record["status"];
            var attempt = (int?)record["attempt"] ?? 0;
            attempts[attempt] = attempts.GetValueOrDefault(attempt) + 1;
            if (status != "success")
                problems.Add($"{id} (event {n}): status {status}, attempt {attempt}, error {record["error"]?.ToJsonString()}");
            else if (!JsonNode.DeepEquals(record["output"], JsonNode.Parse(EventJson(n))))
                problems.Add($"{id} (event {n}): the output is not the event sent; record {record.ToJsonString()}");
            if ((string?)record["executionId"] != id) problems.Add($"{id}: record says executionId {record["executionId"]}");
            if ((string?)record["function"] != Function) problems.Add($"{id}: record says function {record["function"]}");
            if (attempt < 1) problems.Add($"{id}: attempt {attempt}");
            if ((bool?)record["deadLetter"] == true) problems.Add($"{id}: dead-lettered");
            if (record["createdAt"] is null || record["finishedAt"] is null
                || (DateTimeOffset)record["finishedAt"]! < (DateTimeOffset)record["createdAt"]!)
                problems.Add($"{id}: timestamps createdAt {record["createdAt"]} finishedAt {record["finishedAt"]}");
        }
        log.WriteLine("attempts: " + string.Join(", ", attempts.OrderBy(a => a.Key).Select(a => $"{a.Value} x attempt {a.Key}")));
        Assert.True(problems.Count == 0,
            $"{problems.Count} of {send.Accepted.Count} accepted calls are not intact:\n{string.Join('\n', problems.Take(20))}\n" +
            $"daemon output:\n{_daemon.RecentOutput}");
    }

    private sealed record SendResult(
        ConcurrentDictionary<string, int> Accepted, int AcceptedAtKill, int Attempted, int Failed, int Throttled,
        ConcurrentQueue<string> Unexpected, TimeSpan KilledAt);

    /// <summary>16 senders share the 2,000 events; when the 1,050th 202 arrives the daemon is SIGKILLed while the
    /// others are mid-request. A 429 puts its event back for later; a connection error means "not accepted".</summary>
    private static async Task<SendResult> SendWithCrashAsync(DaemonProcess daemon)
    {
        var pending = new ConcurrentQueue<int>(Enumerable.Range(0, Events));
        var accepted = new ConcurrentDictionary<string, int>();
        var unexpected = new ConcurrentQueue<string>();
        int acceptedCount = 0, attempted = 0, failed = 0, throttled = 0, acceptedAtKill = 0;
        var kill = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var burst = Stopwatch.StartNew();
        var killedAt = TimeSpan.Zero;

        var killer = Task.Run(async () =>
        {
            await kill.Task;
            acceptedAtKill = Volatile.Read(ref acceptedCount);
            killedAt = burst.Elapsed;
            daemon.Kill();
        });

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Senders, ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(30),
        };
        async Task SendLoop()
        {
            while (pending.TryDequeue(out var n))
            {
                HttpResponseMessage response;
                try
                {
                    response = await http.PostAsync($"/v1/functions/{Function}:enqueue",
                        new StringContent(EventJson(n), Encoding.UTF8, "application/json"));
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    Interlocked.Increment(ref attempted);
                    Interlocked.Increment(ref failed); // the daemon is gone: this call was not accepted
                    continue;
                }
                using (response)
                {
                    if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        Interlocked.Increment(ref throttled);
                        pending.Enqueue(n);
                        await Task.Delay(50);
                        continue;
                    }
                    Interlocked.Increment(ref attempted);
                    string body;
                    try
                    {
                        body = await response.Content.ReadAsStringAsync();
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException)
                    {
                        Interlocked.Increment(ref failed); // cut off mid-body: no executionId, so not accepted
                        continue;
                    }
                    if (response.StatusCode != HttpStatusCode.Accepted)
                    {
                        unexpected.Enqueue($"event {n}: {(int)response.StatusCode} {body}");
                        continue;
                    }
                    var id = (string?)JsonNode.Parse(body)?["executionId"];
                    var header = response.Headers.TryGetValues("X-Execution-Id", out var values) ? values.Single() : null;
                    if (id is null || id != header || (string?)JsonNode.Parse(body)?["status"] != "queued")
                    {
                        unexpected.Enqueue($"event {n}: 202 with body {body} and X-Execution-Id {header}");
                        continue;
                    }
                    if (!accepted.TryAdd(id, n)) unexpected.Enqueue($"event {n}: executionId {id} was already given to event {accepted[id]}");
                    if (Interlocked.Increment(ref acceptedCount) == KillAfterAccepted) kill.TrySetResult();
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(SendLoop)));
        kill.TrySetResult(); // had the burst ended first, the kill still happens (and the "> 1000 accepted" assert explains)
        await killer;
        return new SendResult(accepted, acceptedAtKill, attempted, failed, throttled, unexpected, killedAt);
    }

    /// <summary>GETs every id until its status is terminal (or it is missing after the daemon is up); gives up after the budget.</summary>
    private async Task<Dictionary<string, JsonNode?>> PollUntilTerminalAsync(DaemonProcess daemon, IEnumerable<string> ids, TimeSpan budget)
    {
        using var http = new HttpClient { BaseAddress = daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var results = new ConcurrentDictionary<string, JsonNode?>();
        var waiting = ids.ToList();
        var clock = Stopwatch.StartNew();
        var lastCount = -1;
        while (waiting.Count > 0)
        {
            if (clock.Elapsed > budget)
            {
                var sample = string.Join('\n', waiting.Take(10).Select(id => $"{id}: {results.GetValueOrDefault(id)?.ToJsonString() ?? "?"}"));
                Assert.Fail($"{waiting.Count} accepted calls were still not finished {budget.TotalSeconds:0}s after the restart:\n{sample}\n" +
                            $"daemon output:\n{daemon.RecentOutput}");
            }
            var still = new ConcurrentBag<string>();
            await Parallel.ForEachAsync(waiting, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (id, ct) =>
            {
                using var response = await http.GetAsync($"/v1/executions/{id}", ct);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    results[id] = null; // the record is lost: reported by the caller
                    return;
                }
                var body = await response.Content.ReadAsStringAsync(ct);
                Assert.True(response.IsSuccessStatusCode, $"GET {id}: {(int)response.StatusCode} {body}");
                var record = JsonNode.Parse(body)!;
                results[id] = record;
                if ((string?)record["status"] is not ("success" or "error" or "timeout")) still.Add(id);
            });
            waiting = [.. still];
            if (waiting.Count != lastCount)
            {
                log.WriteLine($"{clock.Elapsed.TotalSeconds:0.0}s after restart: {waiting.Count} not finished yet");
                lastCount = waiting.Count;
            }
            if (waiting.Count > 0) await Task.Delay(500);
        }
        return new Dictionary<string, JsonNode?>(results);
    }
}
