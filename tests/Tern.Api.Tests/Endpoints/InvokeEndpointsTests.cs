using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Api.Tests.Endpoints;

public sealed class InvokeEndpointsTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static byte[] Py(string source) => Encoding.UTF8.GetBytes(source);

    private Task<HttpResponseMessage> PostInvokeAsync(string name, HttpContent content) =>
        daemon.Client.PostAsync($"/v1/functions/{name}:invoke", content);

    [Fact]
    public async Task Invoke_Success_ReturnsResultWithExecutionIdHeader()
    {
        await daemon.CreateOkAsync("inv-echo", "python", Py("import json,sys\nprint(json.dumps(json.load(open(sys.argv[1]))))"), "main.py");
        using var response = await PostInvokeAsync("inv-echo", new StringContent("{\"k\":[1,2]}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("success", (string?)body["status"]);
        Assert.Equal("[1,2]", body["output"]!["k"]!.ToJsonString());
        Assert.True((bool)body["coldStart"]!);
        Assert.True((double)body["durationMs"]! > 0);
        Assert.Equal((string?)body["executionId"], response.Headers.GetValues("X-Execution-Id").Single());
    }

    [Fact]
    public async Task Invoke_TraceIdHeader_ReachesHandlerAndComesBack()
    {
        await daemon.CreateOkAsync("inv-trace", "python", Py("import json,os\nprint(json.dumps(os.environ.get('TERN_TRACE_ID')))"), "main.py");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/functions/inv-trace:invoke") { Content = new StringContent("{}") };
        request.Headers.Add("X-Trace-Id", "trace-123");
        using var response = await daemon.Client.SendAsync(request);
        Assert.Equal("trace-123", response.Headers.GetValues("X-Trace-Id").Single());
        Assert.Equal("trace-123", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["output"]);
    }

    [Fact]
    public async Task Invoke_HandlerExitsNonZero_Returns200ErrorWithStderrTail()
    {
        await daemon.CreateOkAsync("inv-fail", "python", Py("import sys\nsys.stderr.write('kaput here\\n')\nsys.exit(3)"), "main.py");
        var result = await daemon.InvokeAsync("inv-fail");
        Assert.Equal("error", (string?)result["status"]);
        Assert.Equal("HandlerFailed", (string?)result["error"]!["code"]);
        Assert.Contains("kaput here", (string?)result["error"]!["message"]);
        Assert.Contains("code 3", (string?)result["error"]!["message"]);
    }

    [Fact]
    public async Task Invoke_StdoutNotJson_ComesBackAsJsonString()
    {
        await daemon.CreateOkAsync("inv-text", "python", Py("print('plain words')"), "main.py");
        var result = await daemon.InvokeAsync("inv-text");
        Assert.Equal("success", (string?)result["status"]);
        Assert.Equal("plain words", (string?)result["output"]);
    }

    [Fact]
    public async Task Invoke_EmptyBody_SendsEmptyObject()
    {
        await daemon.CreateOkAsync("inv-empty", "python", Py("import sys\nprint(open(sys.argv[1]).read())"), "main.py");
        using var response = await PostInvokeAsync("inv-empty", new ByteArrayContent([]));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("{}", body["output"]!.ToJsonString());
    }

    [Fact]
    public async Task Invoke_UnknownFunction_Returns404Problem()
    {
        using var response = await PostInvokeAsync("no-such-fn", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Invoke_MalformedEvent_Returns400Problem()
    {
        await daemon.CreateOkAsync("inv-bad", "python", Py("print(1)"), "main.py");
        using var response = await PostInvokeAsync("inv-bad", new StringContent("{\"a\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private const string Echo = "import json,sys\nprint(json.dumps(json.load(open(sys.argv[1]))))";

    private static ByteArrayContent Bytes(byte[] bytes, string? contentType)
    {
        var content = new ByteArrayContent(bytes);
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private async Task<JsonNode> EventSeenAsync(string name, HttpContent content, string verb = "invoke")
    {
        using var response = await daemon.Client.PostAsync($"/v1/functions/{name}:{verb}", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {text}");
        var body = JsonNode.Parse(text)!;
        if (verb == "enqueue") body = await daemon.WaitTerminalAsync((string)body["executionId"]!);
        Assert.True((string?)body["status"] == "success", text);
        return body["output"]!;
    }

    /// <summary>Bytes that are not JSON (here a PNG header, invalid UTF-8) reach the handler as API Gateway hands Lambda a
    /// binary body: base64 with isBase64Encoded, and the content type.</summary>
    [Theory]
    [InlineData("invoke")]
    [InlineData("enqueue")]
    public async Task Invoke_BinaryBody_ReachesTheHandlerBase64Encoded(string verb)
    {
        await daemon.CreateOkAsync("inv-bin-" + verb, "python", Py(Echo), "main.py");
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF, 0xFE];
        var seen = await EventSeenAsync("inv-bin-" + verb, Bytes(png, "image/png"), verb);
        Assert.True((bool)seen["isBase64Encoded"]!);
        Assert.Equal(png, Convert.FromBase64String((string)seen["body"]!));
        Assert.Equal("""{"content-type":"image/png"}""", seen["headers"]!.ToJsonString());
    }

    [Fact]
    public async Task Invoke_ContentTypeDecidesWhetherJsonBytesAreTheEvent()
    {
        await daemon.CreateOkAsync("inv-kinds", "python", Py(Echo), "main.py");
        var json = Encoding.UTF8.GetBytes("""{"a":1}""");
        // Binary types are never parsed, so a handler written for them always gets the same shape.
        var octets = await EventSeenAsync("inv-kinds", Bytes(json, "application/octet-stream"));
        Assert.Equal(json, Convert.FromBase64String((string)octets["body"]!));
        // No type, text/plain (fetch's default for a string) and curl -d's form type: JSON when it parses...
        foreach (var type in new[] { null, "text/plain; charset=utf-8", "application/x-www-form-urlencoded" })
            Assert.Equal("""{"a":1}""", (await EventSeenAsync("inv-kinds", Bytes(json, type))).ToJsonString());
        // ...and wrapped when it does not: a real form post, plain text, bytes without a type.
        var form = await EventSeenAsync("inv-kinds", Bytes("team=x&text=hi"u8.ToArray(), "application/x-www-form-urlencoded"));
        Assert.Equal("team=x&text=hi", Encoding.UTF8.GetString(Convert.FromBase64String((string)form["body"]!)));
        Assert.Equal("application/x-www-form-urlencoded", (string?)form["headers"]!["content-type"]);
        var untyped = await EventSeenAsync("inv-kinds", Bytes("hello"u8.ToArray(), null));
        Assert.True((bool)untyped["isBase64Encoded"]!);
        Assert.Equal("{}", untyped["headers"]!.ToJsonString());
    }

    [Fact]
    public async Task Invoke_MalformedJsonUnderAJsonType_Is400NamingTheAlternative()
    {
        await daemon.CreateOkAsync("inv-badjson", "python", Py("print(1)"), "main.py");
        using var response = await PostInvokeAsync("inv-badjson", Bytes("hello"u8.ToArray(), "application/vnd.api+json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("application/octet-stream", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Invoke_BinaryBodyTooBigOnceEncoded_Is413WithTheLimit()
    {
        await daemon.CreateOkAsync("inv-bigbin", "python", Py("print(1)"), "main.py");
        using var response = await PostInvokeAsync("inv-bigbin", Bytes(new byte[5 * 1024 * 1024], "application/octet-stream"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("base64-encoded", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Invoke_EventOver6MB_Returns413Problem()
    {
        await daemon.CreateOkAsync("inv-big", "python", Py("print(1)"), "main.py");
        var big = "{\"x\":\"" + new string('a', 6 * 1024 * 1024) + "\"}";
        using var response = await PostInvokeAsync("inv-big", new StringContent(big, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Invoke_EventJustUnder6MB_IsAccepted()
    {
        await daemon.CreateOkAsync("inv-large", "python", Py("import os,sys\nprint(os.path.getsize(sys.argv[1]))"), "main.py");
        var payload = "\"" + new string('b', 6 * 1024 * 1024 - 16) + "\"";
        var result = await daemon.InvokeAsync("inv-large", payload);
        Assert.Equal("success", (string?)result["status"]);
        Assert.Equal(payload.Length, (int)result["output"]!);
    }
}
