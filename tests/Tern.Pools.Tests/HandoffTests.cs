using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tern.Testing;

namespace Tern.Pools.Tests;

/// <summary>A daemon with a small message limit, so an oversized answer is cheap to produce.</summary>
public sealed class HandoffDaemonFixture : DaemonFixture
{
    public const int MaxMessageBytes = 64 * 1024;

    public override Task InitializeAsync() => StartAsync(services => services.Configure<PoolOptions>(o => o.MaxMessageBytes = MaxMessageBytes));
}

/// <summary>The handoff (docs/hot-path.md): a persistent handler's pipes go to the daemon after it loads, and the daemon
/// speaks the line protocol itself. Real daemon, real sandboxes; each failure the agent used to handle is handled here
/// with the same answer, and the worker is then replaced.</summary>
public sealed class HandoffTests(HandoffDaemonFixture daemon) : IClassFixture<HandoffDaemonFixture>
{
    private static readonly byte[] Python = Encoding.UTF8.GetBytes("""
        import sys, time

        def handler(event, context):
            print("call", event.get("n"))
            if event.get("exit"):
                sys.exit(event["exit"])
            if event.get("sleep"):
                time.sleep(event["sleep"])
            if event.get("big"):
                return "x" * event["big"]
            return {"n": event.get("n"), "id": context.aws_request_id}
        """);

    private static readonly object Persistent = new { mode = "persistent", handler = "app.handler" };

    private async Task<double?> HandedOffAsync(string function)
    {
        var metrics = await daemon.Client.GetStringAsync("/metrics");
        var prefix = $"tern_workers_handed_off_total{{function=\"{function}\",isolation=\"sandbox\"}} ";
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task WarmCalls_GoStraightToTheHandler_WithTheirOwnRequestIds()
    {
        await daemon.CreateOkAsync("ho-warm", "python", Python, "app.py", Persistent);
        for (var n = 1; n <= 3; n++)
        {
            var result = await daemon.InvokeAsync("ho-warm", $$"""{"n": {{n}}}""");
            Assert.Equal("success", (string?)result["status"]);
            Assert.Equal(n, (int?)result["output"]!["n"]);
            Assert.Equal((string?)result["executionId"], (string?)result["output"]!["id"]);
            Assert.Equal(n == 1, (bool?)result["coldStart"]);
        }
        Assert.Equal(1, await HandedOffAsync("ho-warm"));
    }

    [Fact]
    public async Task HandlerExit_IsHandlerCrashed_WithExitCodeAndStderr_AndANewWorkerServesTheNextCall()
    {
        await daemon.CreateOkAsync("ho-exit", "python", Python, "app.py", Persistent);
        await daemon.InvokeAsync("ho-exit", """{"n": 1}""");
        var crashed = await daemon.InvokeAsync("ho-exit", """{"n": 2, "exit": 3}""");
        Assert.Equal("error", (string?)crashed["status"]);
        Assert.Equal("HandlerCrashed", (string?)crashed["error"]!["code"]);
        var message = (string)crashed["error"]!["message"]!;
        Assert.Contains("exited with code 3", message);
        Assert.Contains("call 2", message); // what it printed before it exited
        var next = await daemon.InvokeAsync("ho-exit", """{"n": 3}""");
        Assert.Equal("success", (string?)next["status"]);
        Assert.True((bool)next["coldStart"]!);
        Assert.Equal(2, await HandedOffAsync("ho-exit"));
    }

    [Fact]
    public async Task CallPastItsTimeout_IsTimeout_OnTime_AndANewWorkerServesTheNextCall()
    {
        await daemon.CreateOkAsync("ho-slow", "python", Python, "app.py", new { mode = "persistent", handler = "app.handler", timeoutMs = 1000 });
        await daemon.InvokeAsync("ho-slow", """{"n": 1}""");
        var clock = Stopwatch.StartNew();
        var slow = await daemon.InvokeAsync("ho-slow", """{"n": 2, "sleep": 30}""");
        clock.Stop();
        Assert.Equal("timeout", (string?)slow["status"]);
        Assert.Equal("Timeout", (string?)slow["error"]!["code"]);
        Assert.Contains("timeout of 1000 ms", (string?)slow["error"]!["message"]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"answered after {clock.Elapsed}"); // not after the 30 s sleep
        var next = await daemon.InvokeAsync("ho-slow", """{"n": 3}""");
        Assert.Equal("success", (string?)next["status"]);
        Assert.True((bool)next["coldStart"]!);
    }

    [Fact]
    public async Task AnswerOverTheMessageLimit_IsOutputTooLarge_AndTheNextCallWorks()
    {
        await daemon.CreateOkAsync("ho-big", "python", Python, "app.py", Persistent);
        var big = await daemon.InvokeAsync("ho-big", $$"""{"n": 1, "big": {{HandoffDaemonFixture.MaxMessageBytes * 2}}}""");
        Assert.Equal("error", (string?)big["status"]);
        Assert.Equal("OutputTooLarge", (string?)big["error"]!["code"]);
        var next = await daemon.InvokeAsync("ho-big", """{"n": 2}""");
        Assert.Equal("success", (string?)next["status"]);
    }

    [Fact]
    public async Task LineThatIsNotTheProtocol_IsHandlerProtocolError()
    {
        var script = Encoding.UTF8.GetBytes("""
            #!/bin/sh
            echo '{"ready":true}'
            while IFS= read -r line; do
              id=$(printf '%s' "$line" | sed 's/^{"requestId":"\([^"]*\)".*/\1/')
              case "$line" in
                *garbage*) echo "this is not json" ;;
                *) printf '{"requestId":"%s","output":"ok"}\n' "$id" ;;
              esac
            done
            """.Replace("\r", ""));
        await daemon.CreateOkAsync("ho-proto", "binary", script, "bootstrap", new { mode = "persistent", handler = "bootstrap" });
        Assert.Equal("ok", (string?)(await daemon.InvokeAsync("ho-proto", """{"a": 1}"""))["output"]);
        var broken = await daemon.InvokeAsync("ho-proto", """{"garbage": true}""");
        Assert.Equal("HandlerProtocolError", (string?)broken["error"]!["code"]);
        Assert.Contains("this is not json", (string?)broken["error"]!["message"]);
        Assert.Equal("ok", (string?)(await daemon.InvokeAsync("ho-proto", """{"a": 2}"""))["output"]);
    }

    [Fact]
    public async Task ConcurrentCalls_ShareOneHandedOffWorker_UpToInstanceConcurrency()
    {
        var node = Encoding.UTF8.GetBytes("""
            exports.handler = async (event) => {
              await new Promise(r => setTimeout(r, 300));
              return { n: event.n };
            };
            """);
        await daemon.CreateOkAsync("ho-node", "node", node, "index.js", new { mode = "persistent", handler = "index.handler", instanceConcurrency = 4, concurrency = 8 });
        await daemon.InvokeAsync("ho-node", """{"n": 0}""");
        var results = await Task.WhenAll(Enumerable.Range(1, 4).Select(n => daemon.InvokeAsync("ho-node", $$"""{"n": {{n}}}""")));
        Assert.Equal([1, 2, 3, 4], results.Select(r => (int)r["output"]!["n"]!).Order());
        Assert.All(results, r => Assert.False((bool)r["coldStart"]!)); // all four on the one warm worker at once
        Assert.Equal(1, await HandedOffAsync("ho-node"));
    }
}

/// <summary>handlers.handoff=false: the agent relays every call, as before the handoff existed.</summary>
public sealed class HandoffOffDaemonFixture : DaemonFixture
{
    public override Task InitializeAsync() => StartAsync(services => services.Configure<HandlerOptions>(o => o.Handoff = false));
}

public sealed class HandoffOffTests(HandoffOffDaemonFixture daemon) : IClassFixture<HandoffOffDaemonFixture>
{
    [Fact]
    public async Task WithHandoffOff_CallsAreRelayedByTheAgent_AndNoWorkerIsHandedOff()
    {
        await daemon.CreateOkAsync("ho-off", "python", Encoding.UTF8.GetBytes("def handler(e, c):\n    return e\n"), "app.py",
            new { mode = "persistent", handler = "app.handler" });
        for (var n = 1; n <= 2; n++)
            Assert.Equal(n, (int?)(await daemon.InvokeAsync("ho-off", $$"""{"n": {{n}}}"""))["output"]!["n"]);
        var metrics = await daemon.Client.GetStringAsync("/metrics");
        Assert.DoesNotContain("tern_workers_handed_off_total{function=\"ho-off\"", metrics);
        Assert.Contains("tern_workers_started_total{function=\"ho-off\"", metrics);
    }
}
