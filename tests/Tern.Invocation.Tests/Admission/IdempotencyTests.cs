using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tern.Invocation.Admission;
using Tern.Testing;
using static Tern.Invocation.Tests.Admission.AdmissionTestKit;

namespace Tern.Invocation.Tests.Admission;

/// <summary>Idempotency-Key: a repeat returns the first call's executionId and stored result and runs nothing.</summary>
public sealed class IdempotencyTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static string NewKey() => "key-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Invoke_SameIdempotencyKeyTwice_ReplaysTheStoredResultWithoutRunning()
    {
        await daemon.CreateOkAsync("idem-invoke", "python", RandomHandler, "main.py");
        var key = NewKey();
        var (first, firstBody) = await daemon.PostAsync("/v1/functions/idem-invoke:invoke", "{}", Header("Idempotency-Key", key));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        var (again, againBody) = await daemon.PostAsync("/v1/functions/idem-invoke:invoke", "{}", Header("Idempotency-Key", key));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());

        Assert.Equal((string?)firstBody!["executionId"], (string?)againBody!["executionId"]);
        Assert.Equal(first.Headers.GetValues("X-Execution-Id").Single(), again.Headers.GetValues("X-Execution-Id").Single());
        Assert.Equal("success", (string?)againBody["status"]);
        Assert.Equal(firstBody["output"]!.ToJsonString(), againBody["output"]!.ToJsonString()); // the handler ran once
        Assert.Equal((double)firstBody["durationMs"]!, (double)againBody["durationMs"]!, 3);
        Assert.Equal(1, await daemon.CountRecordsAsync("idem-invoke"));

        // Another key (or none) is another call.
        var (_, other) = await daemon.PostAsync("/v1/functions/idem-invoke:invoke", "{}", Header("Idempotency-Key", NewKey()));
        Assert.NotEqual((string?)firstBody["executionId"], (string?)other!["executionId"]);
        Assert.NotEqual(firstBody["output"]!.ToJsonString(), other["output"]!.ToJsonString());
    }

    [Fact]
    public async Task Invoke_ReplayWhileTheFirstCallRuns_WaitsAndReturnsItsResult()
    {
        await daemon.CreateOkAsync("idem-running", "python", RandomHandler, "main.py", new { timeoutMs = 20_000 });
        var key = NewKey();
        var firstTask = daemon.PostAsync("/v1/functions/idem-running:invoke", """{"sleep": 1.5}""", Header("Idempotency-Key", key));
        await Task.Delay(500);
        var (again, againBody) = await daemon.PostAsync("/v1/functions/idem-running:invoke", """{"sleep": 1.5}""", Header("Idempotency-Key", key));
        var (first, firstBody) = await firstTask;
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal((string?)firstBody!["executionId"], (string?)againBody!["executionId"]);
        Assert.Equal(firstBody["output"]!.ToJsonString(), againBody["output"]!.ToJsonString());
    }

    [Fact]
    public async Task Invoke_ConcurrentFirstCallsWithOneKey_RunOnce()
    {
        await daemon.CreateOkAsync("idem-race", "python", RandomHandler, "main.py", new { timeoutMs = 20_000 });
        var key = NewKey();
        var calls = await Task.WhenAll(Enumerable.Range(0, 4)
            .Select(_ => daemon.PostAsync("/v1/functions/idem-race:invoke", """{"sleep": 0.3}""", Header("Idempotency-Key", key))));
        Assert.All(calls, c => Assert.Equal(HttpStatusCode.OK, c.Response.StatusCode));
        Assert.Single(calls.Select(c => (string?)c.Body!["executionId"]).Distinct());
        Assert.Single(calls.Select(c => c.Body!["output"]!.ToJsonString()).Distinct());
        Assert.Equal(3, calls.Count(c => c.Response.Headers.Contains("Idempotent-Replayed")));
        Assert.Equal(1, await daemon.CountRecordsAsync("idem-race"));
    }

    [Fact]
    public async Task Enqueue_SameIdempotencyKeyTwice_Returns202WithTheSameExecutionAndRunsOnce()
    {
        await daemon.CreateOkAsync("idem-enqueue", "python", RandomHandler, "main.py");
        var key = NewKey();
        var (first, firstBody) = await daemon.PostAsync("/v1/functions/idem-enqueue:enqueue", "{}", Header("Idempotency-Key", key));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var id = (string)firstBody!["executionId"]!;
        var (again, againBody) = await daemon.PostAsync("/v1/functions/idem-enqueue:enqueue", "{}", Header("Idempotency-Key", key));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(id, (string?)againBody!["executionId"]);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());

        var record = await daemon.WaitTerminalAsync(id);
        Assert.Equal("success", (string?)record["status"]);
        Assert.Equal(1, (int)record["attempt"]!);
        Assert.Equal(1, await daemon.CountRecordsAsync("idem-enqueue"));

        // After it finished, a replay still answers with the same execution (now with its final status).
        var (late, lateBody) = await daemon.PostAsync("/v1/functions/idem-enqueue:enqueue", "{}", Header("Idempotency-Key", key));
        Assert.Equal(HttpStatusCode.Accepted, late.StatusCode);
        Assert.Equal(id, (string?)lateBody!["executionId"]);
        Assert.Equal("success", (string?)lateBody["status"]);
        var after = JsonNode.Parse(await daemon.Client.GetStringAsync($"/v1/executions/{id}"))!;
        Assert.Equal(record["output"]!.ToJsonString(), after["output"]!.ToJsonString());
    }

    [Fact]
    public async Task Invoke_KeyScopedToFunction_SameKeyOnAnotherFunctionRunsAgain()
    {
        await daemon.CreateOkAsync("idem-scope-a", "python", RandomHandler, "main.py");
        await daemon.CreateOkAsync("idem-scope-b", "python", RandomHandler, "main.py");
        var key = NewKey();
        var (_, a) = await daemon.PostAsync("/v1/functions/idem-scope-a:invoke", "{}", Header("Idempotency-Key", key));
        var (b, bBody) = await daemon.PostAsync("/v1/functions/idem-scope-b:invoke", "{}", Header("Idempotency-Key", key));
        Assert.False(b.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual((string?)a!["executionId"], (string?)bBody!["executionId"]);
    }

    public static TheoryData<string, string> BadKeys => new()
    {
        { "invoke", new string('k', 201) }, { "invoke", "" }, { "invoke", "a\tb" },
        { "enqueue", new string('k', 201) }, { "enqueue", "" },
    };

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task Call_BadIdempotencyKey_Returns400Problem(string action, string key)
    {
        (await daemon.CreateAsync($"idem-bad-{action}", "python", RandomHandler, "main.py")).Dispose(); // one theory row creates it
        var (response, body) = await daemon.PostAsync($"/v1/functions/idem-bad-{action}:{action}", "{}", Header("Idempotency-Key", key));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Idempotency-Key", (string?)body!["detail"]);
        Assert.Equal(0, await daemon.CountRecordsAsync($"idem-bad-{action}"));
    }
}

/// <summary>A daemon whose idempotency window is 2 s, so expiry is testable.</summary>
public sealed class ShortIdempotencyWindowFixture : DaemonFixture
{
    public override Task InitializeAsync() => StartAsync(s => s.Configure<AdmissionOptions>(o => o.IdempotencyWindow = TimeSpan.FromSeconds(2)));
}

public sealed class IdempotencyWindowTests(ShortIdempotencyWindowFixture daemon) : IClassFixture<ShortIdempotencyWindowFixture>
{
    [Fact]
    public async Task Invoke_KeyOlderThanTheWindow_RunsAgain_AndTheNewCallIsReplayedAfterwards()
    {
        await daemon.CreateOkAsync("idem-window", "python", RandomHandler, "main.py");
        var key = "window-" + Guid.NewGuid().ToString("N");
        var (_, first) = await daemon.PostAsync("/v1/functions/idem-window:invoke", "{}", Header("Idempotency-Key", key));
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        var (fresh, second) = await daemon.PostAsync("/v1/functions/idem-window:invoke", "{}", Header("Idempotency-Key", key));
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.False(fresh.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual((string?)first!["executionId"], (string?)second!["executionId"]);

        var (replay, third) = await daemon.PostAsync("/v1/functions/idem-window:invoke", "{}", Header("Idempotency-Key", key));
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal((string?)second["executionId"], (string?)third!["executionId"]);
        Assert.Equal(second["output"]!.ToJsonString(), third["output"]!.ToJsonString());
    }
}
