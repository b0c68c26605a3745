using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Tern.Pools;
using Tern.Testing;

namespace Tern.Invocation.Tests;

/// <summary>A daemon whose agent frames are limited to 64 KiB, so oversize events and answers are cheap to provoke.</summary>
public sealed class SmallFrameDaemonFixture : DaemonFixture
{
    public const int Limit = 64 * 1024;

    public override Task InitializeAsync() => StartAsync(s => s.Configure<PoolOptions>(o => o.MaxMessageBytes = Limit));
}

/// <summary>An oversize frame fails only its own call: the worker and the next call are unaffected.</summary>
public sealed class OversizeMessageTests(SmallFrameDaemonFixture daemon) : IClassFixture<SmallFrameDaemonFixture>
{
    private const string Handler = """
        import json, sys
        event = json.load(open(sys.argv[1]))
        print(json.dumps("x" * event.get("size", 0) if "size" in event else "ok"))
        """;

    [Fact]
    public async Task EventLargerThanAFrame_FailsThatCallOnly()
    {
        await daemon.CreateOkAsync("big-event", "python", Encoding.UTF8.GetBytes(Handler), "main.py", new { timeoutMs = 20_000 });
        Assert.Equal("ok", (string?)(await daemon.InvokeAsync("big-event"))["output"]);

        var huge = $"{{\"pad\":\"{new string('p', SmallFrameDaemonFixture.Limit + 1000)}\"}}";
        var started = DateTime.UtcNow;
        var failed = await daemon.InvokeAsync("big-event", huge);
        Assert.Equal("error", (string?)failed["status"]);
        Assert.Equal("PayloadTooLarge", (string?)failed["error"]!["code"]);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "an oversize frame must fail at once, not time out");

        var next = await daemon.InvokeAsync("big-event");
        Assert.Equal("ok", (string?)next["output"]);
        Assert.False((bool)next["coldStart"]!, "the worker must survive another call's oversize frame");
    }

    [Fact]
    public async Task AnswerLargerThanAFrame_FailsThatCallOnly()
    {
        await daemon.CreateOkAsync("big-answer", "python", Encoding.UTF8.GetBytes(Handler), "main.py", new { timeoutMs = 20_000 });
        Assert.Equal("ok", (string?)(await daemon.InvokeAsync("big-answer"))["output"]);

        var started = DateTime.UtcNow;
        var failed = await daemon.InvokeAsync("big-answer", $"{{\"size\":{SmallFrameDaemonFixture.Limit * 2}}}");
        Assert.Equal("error", (string?)failed["status"]);
        Assert.Equal("OutputTooLarge", (string?)failed["error"]!["code"]);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "an oversize answer must fail at once, not time out");

        var next = await daemon.InvokeAsync("big-answer");
        Assert.Equal("ok", (string?)next["output"]);
    }
}
