using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Api.Tests.Metrics;

/// <summary>GET /metrics and GET /v1/stats on a real daemon after real calls.</summary>
public sealed class MetricsEndpointsTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static byte[] Py(string source) => Encoding.UTF8.GetBytes(source);

    [Fact]
    public async Task Metrics_AfterCalls_IsValidTextFormat_WithTheCounts()
    {
        await daemon.CreateOkAsync("m-ok", "python", Py("print('{\"ok\": true}')"), "main.py");
        await daemon.CreateOkAsync("m-fail", "python", Py("import sys\nsys.exit(2)"), "main.py");
        Assert.Equal("success", (string?)(await daemon.InvokeAsync("m-ok"))["status"]);
        Assert.Equal("success", (string?)(await daemon.InvokeAsync("m-ok"))["status"]);
        Assert.Equal("error", (string?)(await daemon.InvokeAsync("m-fail"))["status"]);

        using var response = await daemon.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var metrics = PrometheusTextParser.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(2, metrics.Value("tern_invocations_total", ("function", "m-ok"), ("status", "success")));
        Assert.Equal(1, metrics.Value("tern_invocations_total", ("function", "m-fail"), ("status", "error")));
        Assert.Null(metrics.Value("tern_invocations_total", ("function", "m-ok"), ("status", "error")));
        Assert.Equal(1, metrics.Value("tern_cold_starts_total", ("function", "m-ok")));
        Assert.Equal(1, metrics.Value("tern_warm_starts_total", ("function", "m-ok")));
        Assert.Equal(2, metrics.Value("tern_invocation_duration_seconds_count", ("function", "m-ok")));
        Assert.Equal(2, metrics.Value("tern_invocation_duration_seconds_bucket", ("function", "m-ok"), ("le", "+Inf")));
        Assert.True(metrics.Value("tern_invocation_duration_seconds_sum", ("function", "m-ok")) > 0);
        Assert.Equal(2, metrics.Value("tern_queue_wait_seconds_count", ("function", "m-ok")));
        Assert.Equal(0, metrics.Value("tern_inflight", ("function", "m-ok")));
        Assert.True(metrics.Value("tern_workers", ("function", "m-ok")) >= 1);
        Assert.True(metrics.Value("tern_workers_started_total", ("function", "m-ok"), ("isolation", "sandbox")) >= 1);
        foreach (var family in new[] { "tern_rejections_total", "tern_queue_depth", "tern_workers_stopped_total", "tern_workers_crashed_total", "tern_scheduler_runs_total" })
            Assert.NotNull(metrics.Families[family].Type);
        Assert.Equal("histogram", metrics.Families["tern_invocation_duration_seconds"].Type);
        Assert.Equal("counter", metrics.Families["tern_invocations_total"].Type);
        Assert.Equal("gauge", metrics.Families["tern_workers"].Type);
    }

    [Fact]
    public async Task Metrics_RealOutput_IsCleanUnderPromtool()
    {
        // Samples in every kind of family: counters, histograms and gauges from the calls that ran, and rejections (a
        // burst at 1 call per second: the first runs, most of the others are turned away however slow the machine).
        await daemon.CreateOkAsync("m-lint", "python", Py("print('{}')"), "main.py", new { rateLimitPerSecond = 1 });
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            daemon.Client.PostAsync("/v1/functions/m-lint:invoke", new StringContent("{}", Encoding.UTF8, "application/json"))));
        var rejected = responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        foreach (var r in responses) r.Dispose();
        Assert.True(rejected >= 1);
        var text = await daemon.Client.GetStringAsync("/metrics");
        Assert.Contains($"tern_rejections_total{{function=\"m-lint\",reason=\"rate-limit\"}} {rejected}\n", text);
        Assert.Contains("tern_invocation_duration_seconds_bucket{function=\"m-lint\",le=\"+Inf\"}", text);

        var (exitCode, output) = await Promtool.CheckMetricsAsync(text);
        Assert.True(exitCode == 0 && output.Length == 0, $"promtool check metrics exited {exitCode}:\n{output}\n--- input:\n{text}");
    }

    [Fact]
    public async Task Metrics_RateLimitedCalls_CountAsRejections()
    {
        await daemon.CreateOkAsync("m-limited", "python", Py("print('1')"), "main.py", new { rateLimitPerSecond = 1 });
        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            daemon.Client.PostAsync("/v1/functions/m-limited:invoke", new StringContent("{}", Encoding.UTF8, "application/json"))));
        var rejected = responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        foreach (var r in responses) r.Dispose();
        Assert.True(rejected >= 1);

        var metrics = PrometheusTextParser.Parse(await daemon.Client.GetStringAsync("/metrics"));
        Assert.Equal(rejected, metrics.Value("tern_rejections_total", ("function", "m-limited"), ("reason", "rate-limit")));
        var stats = JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/stats"))!;
        Assert.True((long)stats["rejections"]!["rate-limit"]! >= rejected);
        Assert.Equal(rejected, (long)stats["functions"]!["m-limited"]!["rejections"]!["rate-limit"]!);
    }

    [Fact]
    public async Task Stats_ShowInvocations_ColdThenWarm_AndWorkers()
    {
        await daemon.CreateOkAsync("s-ok", "python", Py("print('{}')"), "main.py");
        Assert.True((bool)(await daemon.InvokeAsync("s-ok"))["coldStart"]!);
        Assert.False((bool)(await daemon.InvokeAsync("s-ok"))["coldStart"]!);

        using var response = await daemon.Client.GetAsync("/v1/stats");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stats = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var f = stats["functions"]!["s-ok"]!;
        Assert.Equal(2, (long)f["invocations"]!["success"]!);
        Assert.Equal(1, (long)f["coldStarts"]!);
        Assert.Equal(1, (long)f["warmStarts"]!);
        Assert.True((long)f["workers"]! >= 1);
        Assert.Equal(0, (long)f["inFlight"]!);
        Assert.Equal(0, (long)f["queueDepth"]!);
        Assert.Equal(2, (long)f["duration"]!["count"]!);
        Assert.True((double)f["duration"]!["avgMs"]! > 0);
        Assert.True((double)f["duration"]!["p99Ms"]! >= (double)f["duration"]!["p50Ms"]!);
        Assert.True((long)stats["workers"]!["started"]! >= 1);
        Assert.NotNull(stats["workers"]!["crashed"]);
        Assert.NotNull(stats["schedulerRuns"]);
    }
}
