using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Tern.Bench;

/// <summary>The async path through the HTTP API: how many durable enqueues per second the daemon accepts (each is a
/// committed SQLite record before its 202), and how long one call takes from enqueue to a finished record.</summary>
public static class AsyncEnqueueBench
{
    public const int ThroughputConnections = 32;

    /// <summary>Enqueue, then poll GET /v1/executions/{id} until success, one call at a time, against a warm persistent
    /// Python echo. Returns (finishedAt - createdAt from the records, what the client saw from POST to the finished record).</summary>
    public static async Task<(LatencyStats Server, LatencyStats Client)> LatencyAsync(DaemonProcess daemon, int calls)
    {
        await daemon.CreateAsync(new
        {
            name = "async-echo", runtime = "python", mode = "persistent", handler = "echo.handler", codeFileName = "echo.py",
            code = DaemonProcess.Base64("def handler(event, context):\n    return event\n"), minReplicas = 1, maxReplicas = 1,
            queueSize = 1000,
        });
        // Warm-up: the worker is started and the enqueue/poll paths are JIT-compiled before anything is measured.
        for (var i = 0; i < 10; i++) await EnqueueAndWaitAsync(daemon, "async-echo", $$"""{"warm":{{i}}}""");

        var server = new List<double>();
        var client = new List<double>();
        var elapsed = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            var (record, observedMs) = await EnqueueAndWaitAsync(daemon, "async-echo", $$"""{"n":{{i}}}""");
            var created = (DateTimeOffset)record["createdAt"]!;
            var finished = (DateTimeOffset)record["finishedAt"]!;
            server.Add((finished - created).TotalMilliseconds);
            client.Add(observedMs);
        }
        return (LatencyStats.From(server, elapsed.Elapsed), LatencyStats.From(client, elapsed.Elapsed));
    }

    /// <summary>wrk POSTing `:enqueue` to a Python function that drains slowly (concurrency 2, queueSize 100000), so the
    /// queue never fills: every 2xx is a durable accept. Non-2xx (a 429 if the queue did fill) are reported separately.</summary>
    public static async Task<LatencyStats> ThroughputAsync(DaemonProcess daemon, string stateDir, TimeSpan duration)
    {
        await daemon.CreateAsync(new
        {
            name = "async-sink", runtime = "python", codeFileName = "main.py",
            code = DaemonProcess.Base64("import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))\n"),
            concurrency = 2, queueSize = 100_000,
        });
        var lua = Path.Combine(stateDir, "enqueue.lua");
        await File.WriteAllTextAsync(lua,
            "wrk.method = \"POST\"\nwrk.body = '{\"name\":\"bench\",\"n\":1}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n");
        var url = new Uri(daemon.BaseAddress, "/v1/functions/async-sink:enqueue");
        await WrkLoad.RunAsync(url, 8, TimeSpan.FromSeconds(1), lua); // warm-up: JIT, SQLite pages
        return await WrkLoad.RunAsync(url, ThroughputConnections, duration, lua);
    }

    private static async Task<(JsonNode Record, double ObservedMs)> EnqueueAndWaitAsync(DaemonProcess daemon, string function, string eventJson)
    {
        var started = Stopwatch.GetTimestamp();
        using var accepted = await daemon.Client.PostAsync($"/v1/functions/{function}:enqueue",
            new StringContent(eventJson, Encoding.UTF8, "application/json"));
        var body = await accepted.Content.ReadAsStringAsync();
        if (accepted.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"enqueue: {(int)accepted.StatusCode} {body}");
        var id = (string)JsonNode.Parse(body)!["executionId"]!;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var response = await daemon.Client.GetAsync($"/v1/executions/{id}");
            var record = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            switch ((string?)record["status"])
            {
                case "success":
                    return (record, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                case "error" or "timeout":
                    throw new InvalidOperationException($"async call {id} failed: {record.ToJsonString()}");
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"async call {id} did not finish: {record.ToJsonString()}");
            await Task.Delay(1); // poll tightly: the client-observed figure includes up to ~one poll interval
        }
    }
}
