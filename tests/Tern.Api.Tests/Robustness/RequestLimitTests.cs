using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Core.Functions;
using Tern.Testing;

namespace Tern.Api.Tests.Robustness;

/// <summary>One real daemon process for the request-size tests, so its peak RSS (VmHWM) is its own and not the test
/// host's.</summary>
public sealed class DaemonProcessFixture : IAsyncLifetime
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("tern-limits-").FullName;
    public DaemonProcess Daemon { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Daemon = await DaemonProcess.StartAsync(_dataDir);
        Client = new HttpClient { BaseAddress = Daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var script = Convert.ToBase64String("print('{\"ok\": true}')\n"u8.ToArray());
        using var created = await Client.PostAsync("/v1/functions", Json($$"""{"name": "limits", "runtime": "python", "code": "{{script}}", "codeFileName": "main.py"}"""));
        if (!created.IsSuccessStatusCode) throw new InvalidOperationException(await created.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Daemon.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    public static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");
}

/// <summary>Each limit from issue 9's sweep, with what the daemon did before: a 50 MB invoke body took RSS from 132 to
/// 597 MB; 8 parallel 86 MB PATCHes +570 MB; a 1 MB env value was stored and then failed every call.</summary>
public sealed class RequestLimitTests(DaemonProcessFixture fixture) : IClassFixture<DaemonProcessFixture>
{
    private const long Mb = 1024 * 1024;

    [Fact]
    public async Task Invoke_50MbBody_Is413Problem_AndDaemonMemoryStaysBounded()
    {
        var before = fixture.Daemon.PeakRssBytes;
        var body = new byte[50 * Mb];
        Array.Fill(body, (byte)' ');
        body[0] = (byte)'"';
        body[^1] = (byte)'"';
        foreach (var chunked in new[] { false, true })
        {
            // Chunked: no Content-Length to refuse up front; the daemon must stop reading at its limit.
            HttpContent content = chunked ? new StreamContent(new MemoryStream(body)) : new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            if (chunked) content.Headers.ContentLength = null;
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/functions/limits:invoke") { Content = content };
            if (chunked) request.Headers.TransferEncodingChunked = true;
            var status = await SendTolerantAsync(request);
            Assert.True(status is null or HttpStatusCode.RequestEntityTooLarge, $"chunked={chunked}: {status}");
        }
        var grown = fixture.Daemon.PeakRssBytes - before;
        Assert.True(grown < 40 * Mb, $"peak RSS grew by {grown / Mb} MB for two 50 MB bodies");
    }

    [Fact]
    public async Task EightParallelPatches_Of86MbUnknownFields_AreRefused_AndMemoryStaysBounded()
    {
        var before = fixture.Daemon.PeakRssBytes;
        var filler = new string('x', 86 * 1024 * 1024);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, "/v1/functions/limits")
            {
                Content = DaemonProcessFixture.Json($$"""{"unknownField{{i}}": "{{filler}}"}"""),
            };
            return await SendTolerantAsync(request);
        }));
        Assert.All(statuses, s => Assert.True(s is null || (int)s >= 400 && (int)s < 500, $"{s}"));
        var grown = fixture.Daemon.PeakRssBytes - before;
        Assert.True(grown < 100 * Mb, $"peak RSS grew by {grown / Mb} MB for eight 86 MB PATCHes");

        // Small unknown fields are refused by name (they used to be ignored and buffered).
        using var small = await fixture.Client.PatchAsync("/v1/functions/limits", DaemonProcessFixture.Json("""{"memorySize": 256}"""));
        Assert.Equal(HttpStatusCode.BadRequest, small.StatusCode);
        Assert.Contains("memorySize", await small.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Env_Over4Kb_Is400_AtRegistration_NotAtEveryCall()
    {
        var big = new string('v', 1024 * 1024);
        using var response = await fixture.Client.PatchAsync("/v1/functions/limits", DaemonProcessFixture.Json("{\"env\": {\"BIG\": \"" + big + "\"}}"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"{FunctionLimits.MaxEnvBytes}", await response.Content.ReadAsStringAsync());

        using var withNul = await fixture.Client.PatchAsync("/v1/functions/limits", DaemonProcessFixture.Json("""{"env": {"A": "x\u0000y"}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, withNul.StatusCode);
    }

    [Theory]
    [InlineData("abc\u0001def")]
    [InlineData("tab\there")]
    [InlineData("\u007f")]
    public async Task TraceId_WithControlCharacters_Is400Problem(string traceId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/functions/limits:invoke") { Content = DaemonProcessFixture.Json("{}") };
        Assert.True(request.Headers.TryAddWithoutValidation("X-Trace-Id", traceId));
        using var response = await fixture.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(400, (int?)problem["status"]);
        Assert.DoesNotContain(traceId, response.Headers.ToString());
    }

    [Theory]
    [InlineData("multipart/form-data", "--x\r\nContent-Disposition: form-data; name=\"settings\"\r\n\r\n{}\r\n--x--\r\n")] // no boundary
    [InlineData("multipart/form-data; boundary=abc", "not multipart at all")]
    [InlineData("multipart/form-data; boundary=abc", "--abc\r\nContent-Disposition: form-data; name=\"settings\"\r\n\r\n{\"name\":")] // truncated
    [InlineData("multipart/form-data; boundary=abc", "--abc\r\nContent-Disposition: form-data; name=\"settings\"\r\n\r\nnot json\r\n--abc--\r\n")]
    public async Task Register_BrokenMultipart_Is400Problem(string contentType, string body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", contentType));
        using var response = await fixture.Client.PostAsync("/v1/functions", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The status, or null when the daemon closed the connection after answering early (a client still
    /// sending a refused body may see the reset instead of the 413; either way nothing was buffered).</summary>
    private async Task<HttpStatusCode?> SendTolerantAsync(HttpRequestMessage request)
    {
        try
        {
            using var response = await fixture.Client.SendAsync(request);
            if ((int)response.StatusCode >= 400)
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
