using System.Diagnostics;
using System.Net;
using Tern.Testing;
using static Tern.Invocation.Tests.Admission.AdmissionTestKit;

namespace Tern.Invocation.Tests.Admission;

/// <summary>X-Timeout-Ms caps only the caller's wait: a 408 names the execution, which runs on and is recorded.</summary>
public sealed class CallerTimeoutTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    [Fact]
    public async Task Invoke_TimeoutShorterThanTheRun_Returns408WithExecutionId_AndTheRunFinishes()
    {
        await daemon.CreateOkAsync("wait-cap", "python", RandomHandler, "main.py", new { timeoutMs = 20_000 });
        var clock = Stopwatch.StartNew();
        var (response, body) = await daemon.PostAsync("/v1/functions/wait-cap:invoke", """{"sleep": 1.5}""", Header("X-Timeout-Ms", "300"));
        var waited = clock.Elapsed;

        Assert.Equal(HttpStatusCode.RequestTimeout, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var id = (string?)body!["executionId"];
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal(id, response.Headers.GetValues("X-Execution-Id").Single());
        Assert.Contains("continues", (string?)body["detail"]);
        Assert.True(waited < TimeSpan.FromMilliseconds(1400), $"the caller waited {waited.TotalMilliseconds} ms");

        var record = await daemon.WaitTerminalAsync(id!);
        Assert.Equal("success", (string?)record["status"]);
        Assert.NotNull(record["output"]!["n"]);
    }

    [Fact]
    public async Task Invoke_TimeoutLongerThanTheRun_Returns200()
    {
        await daemon.CreateOkAsync("wait-ok", "python", RandomHandler, "main.py");
        var (response, body) = await daemon.PostAsync("/v1/functions/wait-ok:invoke", "{}", Header("X-Timeout-Ms", "60000"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("success", (string?)body!["status"]);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("900001")]
    [InlineData("")]
    public async Task Invoke_BadTimeoutHeader_Returns400Problem(string value)
    {
        (await daemon.CreateAsync("wait-bad", "python", RandomHandler, "main.py")).Dispose(); // one theory row creates it
        var (response, body) = await daemon.PostAsync("/v1/functions/wait-bad:invoke", "{}", Header("X-Timeout-Ms", value));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("X-Timeout-Ms", (string?)body!["detail"]);
    }
}
