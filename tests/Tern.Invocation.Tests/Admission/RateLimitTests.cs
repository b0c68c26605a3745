using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tern.Invocation.Admission;
using Tern.Testing;

namespace Tern.Invocation.Tests.Admission;

/// <summary>A daemon started with the default global limit set explicitly (whatever TERN_RATE_LIMIT says here).</summary>
public sealed class RateLimitDaemonFixture : DaemonFixture
{
    public override Task InitializeAsync() => StartAsync(s => s.Configure<AdmissionOptions>(o => o.GlobalRateLimitPerSecond = 1000));
}

/// <summary>The global and per-function token buckets, changed at run time; a refused call is a 429 and leaves no record.</summary>
public sealed class RateLimitTests(RateLimitDaemonFixture daemon) : IClassFixture<RateLimitDaemonFixture>
{
    private async Task<HttpResponseMessage> PutLimitAsync(int perSecond) =>
        await daemon.Client.PutAsJsonAsync("/v1/limits", new { globalPerSecond = perSecond });

    private async Task<HttpResponseMessage[]> BurstAsync(string function, int calls) =>
        await Task.WhenAll(Enumerable.Range(0, calls).Select(async _ => (await daemon.PostAsync($"/v1/functions/{function}:invoke")).Response));

    private static void AssertRateLimited(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "a 429 carries Retry-After of at least 1 s");
        Assert.Equal("rate-limit", response.Headers.GetValues("X-Tern-Reject-Reason").Single());
        Assert.False(response.Headers.Contains("X-Execution-Id"), "a refused call has no execution");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Invoke_BurstOverLoweredGlobalLimit_Returns429sWithoutRecords_AndRaisingItAgainAdmitsWithoutRestart()
    {
        await daemon.CreateOkAsync("rl-global", "python", AdmissionTestKit.RandomHandler, "main.py", new { timeoutMs = 20_000 });
        await daemon.InvokeAsync("rl-global"); // warm, so the admitted calls finish quickly
        try
        {
            using (var put = await PutLimitAsync(5))
            {
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
                Assert.Equal(5, (int)JsonNode.Parse(await put.Content.ReadAsStringAsync())!["globalPerSecond"]!);
            }
            Assert.Equal(5, (int)JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/limits"))!["globalPerSecond"]!);

            var burst = await BurstAsync("rl-global", 30);
            Assert.DoesNotContain(burst, r => (int)r.StatusCode >= 500);
            var admitted = burst.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
            var refused = burst.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.Equal(30, admitted.Count + refused.Count);
            Assert.NotEmpty(admitted);
            Assert.NotEmpty(refused);
            Assert.True(admitted.Count <= 10, $"a 5/s bucket admitted {admitted.Count} of 30 calls at once");
            foreach (var response in refused) AssertRateLimited(response);
            Assert.Equal(1 + admitted.Count, await daemon.CountRecordsAsync("rl-global"));

            using (var put = await PutLimitAsync(1000)) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            var again = await BurstAsync("rl-global", 10);
            Assert.All(again, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        }
        finally
        {
            (await PutLimitAsync(1000)).Dispose();
        }
    }

    [Fact]
    public async Task Enqueue_OverLoweredGlobalLimit_Returns429WithoutRecord()
    {
        await daemon.CreateOkAsync("rl-enqueue", "python", AdmissionTestKit.RandomHandler, "main.py");
        try
        {
            (await PutLimitAsync(2)).Dispose();
            var responses = await Task.WhenAll(Enumerable.Range(0, 10)
                .Select(async _ => (await daemon.PostAsync("/v1/functions/rl-enqueue:enqueue")).Response));
            var accepted = responses.Count(r => r.StatusCode == HttpStatusCode.Accepted);
            var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.Equal(10, accepted + refused.Count);
            Assert.NotEmpty(refused);
            foreach (var response in refused) AssertRateLimited(response);
            Assert.Equal(accepted, await daemon.CountRecordsAsync("rl-enqueue"));
        }
        finally
        {
            (await PutLimitAsync(1000)).Dispose();
        }
    }

    [Fact]
    public async Task Patch_FunctionRateLimit_LimitsThatFunction_AndZeroRemovesIt()
    {
        await daemon.CreateOkAsync("rl-fn", "python", AdmissionTestKit.RandomHandler, "main.py", new { timeoutMs = 20_000 });
        using (var patched = await daemon.PatchAsync("rl-fn", new { rateLimitPerSecond = 3 }))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            Assert.Equal(3, (int)JsonNode.Parse(await patched.Content.ReadAsStringAsync())!["rateLimitPerSecond"]!);
        }

        var burst = await BurstAsync("rl-fn", 15);
        Assert.DoesNotContain(burst, r => (int)r.StatusCode >= 500);
        var refused = burst.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        var admitted = burst.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(15, admitted + refused.Count);
        Assert.NotEmpty(refused);
        Assert.InRange(admitted, 1, 6);
        foreach (var response in refused) AssertRateLimited(response);
        Assert.Contains("rl-fn", (string?)JsonNode.Parse(await refused[0].Content.ReadAsStringAsync())!["detail"]);
        Assert.Equal(admitted, await daemon.CountRecordsAsync("rl-fn"));

        using (var removed = await daemon.PatchAsync("rl-fn", new { rateLimitPerSecond = 0 }))
        {
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
            Assert.Null(JsonNode.Parse(await removed.Content.ReadAsStringAsync())!["rateLimitPerSecond"]);
        }
        var free = await BurstAsync("rl-fn", 10);
        Assert.All(free, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1_000_001)]
    public async Task Patch_FunctionRateLimitOutOfRange_Returns400(int rate)
    {
        await daemon.CreateOkAsync($"rl-bad{(rate < 0 ? "neg" : "big")}", "python", AdmissionTestKit.RandomHandler, "main.py");
        using var response = await daemon.PatchAsync($"rl-bad{(rate < 0 ? "neg" : "big")}", new { rateLimitPerSecond = rate });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("rateLimitPerSecond", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"globalPerSecond": -1}""")]
    [InlineData("""{"globalPerSecond": 1000001}""")]
    [InlineData("""{"globalPerSecond": 2.5}""")]
    [InlineData("""{"other": 5}""")]
    [InlineData("""{"globalPerSecond": """)]
    [InlineData("")]
    public async Task PutLimits_BadInput_Returns400ProblemAndKeepsTheLimit(string body)
    {
        using var response = await daemon.Client.PutAsync("/v1/limits", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1000, (int)JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/limits"))!["globalPerSecond"]!);
    }
}

/// <summary>A daemon started with a global limit of 0 (unlimited).</summary>
public sealed class UnlimitedDaemonFixture : DaemonFixture
{
    public override Task InitializeAsync() => StartAsync(s => s.Configure<AdmissionOptions>(o => o.GlobalRateLimitPerSecond = 0));
}

public sealed class StartupLimitTests(UnlimitedDaemonFixture daemon) : IClassFixture<UnlimitedDaemonFixture>
{
    [Fact]
    public async Task GetLimits_ConfiguredAtStart_ReportsIt()
    {
        Assert.Equal(0, (int)JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/limits"))!["globalPerSecond"]!);
    }

    [Fact]
    public async Task OpenApi_Document_ListsTheLimitsEndpoints()
    {
        var document = await daemon.Client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/v1/limits", document);
        Assert.Contains("globalPerSecond", document);
        Assert.Contains("rateLimitPerSecond", document);
    }
}
