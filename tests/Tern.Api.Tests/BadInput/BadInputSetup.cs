using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Tern.Api.Tests.BadInput;

/// <summary>Puts a daemon in a state where bad input reaches real objects (a function, a published version and an
/// alias, a schedule, a secret, an execution), reads its OpenAPI document, and checks afterwards that it still serves.</summary>
public static class BadInputSetup
{
    public const string Function = "bad-target";
    public const string Victim = "bad-victim";

    /// <summary>Persistent Python that echoes its event: warm calls are cheap, and odd events travel all the way
    /// to a handler and back.</summary>
    private static readonly byte[] Echo = Encoding.UTF8.GetBytes("def handler(event, context):\n    return event\n");

    /// <summary>A valid body per operationId; "{n}" becomes a fresh number per case.</summary>
    public static readonly IReadOnlyDictionary<string, string> ValidBodies = new Dictionary<string, string>
    {
        ["CreateFunction"] = $$"""{"name":"bad-new-{n}","runtime":"python","mode":"persistent","handler":"app.handler","code":"{{Convert.ToBase64String(Echo)}}","codeFileName":"app.py","memoryMb":128,"timeoutMs":5000}""",
        ["UpdateFunction"] = """{"memoryMb":128,"timeoutMs":5000,"env":{"MODE":"test"}}""",
        ["SetLimits"] = """{"globalPerSecond":0}""",
        ["SetSecret"] = """{"value":"s3cret"}""",
        ["CreateSchedule"] = $$"""{"function":"{{Function}}","expression":"@every 1h","timezone":"UTC","payload":{"n":1},"enabled":false}""",
        ["UpdateSchedule"] = $$"""{"function":"{{Function}}","expression":"@every 1h","timezone":"UTC","payload":{"n":1},"enabled":false}""",
        ["PublishVersion"] = """{"description":"bad input"}""",
        ["SetAlias"] = """{"version":1}""",
        ["RollbackAlias"] = """{"version":1}""",
        ["CreateApiKey"] = """{"name":"bad-key-{n}","rateLimitPerSecond":0,"role":"read"}""",
        ["LambdaCreateFunction"] = $$"""{"FunctionName":"bad-lambda-{n}","Runtime":"python3.12","Role":"arn:aws:iam::1:role/r","Handler":"app.handler","Code":{"ZipFile":"{{EchoZip}}"},"Timeout":5,"MemorySize":128}""",
        ["LambdaUpdateFunctionCode"] = $$"""{"ZipFile":"{{EchoZip}}"}""",
        ["LambdaUpdateFunctionConfiguration"] = """{"MemorySize":128,"Timeout":5,"Environment":{"Variables":{"MODE":"test"}}}""",
        ["LambdaPublishVersion"] = """{"Description":"bad input"}""",
        ["LambdaCreateAlias"] = """{"Name":"bad-alias-{n}","FunctionVersion":"1"}""",
        ["LambdaUpdateAlias"] = """{"FunctionVersion":"1","RoutingConfig":{"AdditionalVersionWeights":{}}}""",
    };

    /// <summary>The echo handler as app.py in a zip, base64 (the Lambda API takes zips only).</summary>
    private static string EchoZip
    {
        get
        {
            using var buffer = new MemoryStream();
            using (var zip = new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
            using (var entry = zip.CreateEntry("app.py").Open())
                entry.Write(Echo);
            return Convert.ToBase64String(buffer.ToArray());
        }
    }

    public static async Task<(IReadOnlyList<ApiOperation> Operations, RouteValues Values)> PrepareAsync(HttpClient client)
    {
        foreach (var name in new[] { Function, Victim })
            await OkAsync(client.PostAsJsonAsync("/v1/functions", new
            {
                name, runtime = "python", mode = "persistent", handler = "app.handler", code = Convert.ToBase64String(Echo), codeFileName = "app.py",
            }));
        var executionId = (string)(await OkAsync(client.PostAsync($"/v1/functions/{Function}:invoke", Json("""{"n":0}""")), "executionId"))!;
        await OkAsync(client.PostAsync($"/v1/functions/{Function}/versions", Json("{}")));
        await OkAsync(client.PutAsync($"/v1/functions/{Function}/aliases/live", Json("""{"version":1}""")));
        await OkAsync(client.PutAsync("/v1/secrets/bad_secret", Json("""{"value":"s3cret"}""")));
        var scheduleId = (string)(await OkAsync(client.PostAsync("/v1/schedules", Json(ValidBodies["CreateSchedule"])), "id"))!;
        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!.AsObject();
        return (OpenApiReader.Read(document), new RouteValues(Function, Victim, executionId, scheduleId, "bad_secret", "1", "live"));
    }

    /// <summary>Ready, and a plain call works and returns its event.</summary>
    public static async Task AssertStillServingAsync(HttpClient client)
    {
        using (var ready = await client.GetAsync("/healthz/ready"))
            Assert.True(ready.StatusCode == HttpStatusCode.OK, $"/healthz/ready: {(int)ready.StatusCode} {await ready.Content.ReadAsStringAsync()}");
        // Among the mutations are valid limits (0, numbers as strings): put the global limit back to none first.
        using (var limits = await client.PutAsync("/v1/limits", Json("""{"globalPerSecond":0}""")))
            Assert.Equal(HttpStatusCode.OK, limits.StatusCode);
        using var call = await client.PostAsync($"/v1/functions/{Function}:invoke", Json("""{"n":42}"""));
        var text = await call.Content.ReadAsStringAsync();
        Assert.True(call.StatusCode == HttpStatusCode.OK, $"invoke after the bad input: {(int)call.StatusCode} {text}");
        var result = JsonNode.Parse(text)!;
        Assert.Equal("success", (string?)result["status"]);
        Assert.Equal(42, (int?)result["output"]?["n"]);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonNode?> OkAsync(Task<HttpResponseMessage> send, string? field = null)
    {
        using var response = await send;
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"setup: {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}");
        return field is null ? null : JsonNode.Parse(text)![field];
    }
}
