using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Runtimes.Tests;

/// <summary>The Lambda environment an unmodified handler sees, from a real `tern daemon` process whose region comes from
/// its own setting (TERN_HANDLERS_AWS_REGION): AWS_REGION, log group and stream, AWS_EXECUTION_ENV, TZ, and the version
/// that ran ($LATEST or the published number, by version or alias) in both the environment and the context.</summary>
public sealed class LambdaEnvironmentTests : IAsyncLifetime
{
    private const string Region = "eu-west-3";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "tern-lambda-env-" + Guid.NewGuid().ToString("N"));
    private DaemonProcess _daemon = null!;
    private HttpClient _client = null!;

    private const string PythonHandler = """
        import os, time

        KEYS = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
                "AWS_EXECUTION_ENV", "TZ", "AWS_LAMBDA_FUNCTION_VERSION", "TERN_FUNCTION_VERSION", "TERN_FUNCTION_REVISION"]

        def lambda_handler(event, context):
            return {"env": {k: os.environ.get(k) for k in KEYS}, "version": context.function_version,
                    "arn": context.invoked_function_arn, "group": context.log_group_name, "stream": context.log_stream_name,
                    "zone": time.strftime("%Z")}
        """;

    public async Task InitializeAsync()
    {
        _daemon = await DaemonProcess.StartAsync(_dataDir, new Dictionary<string, string> { ["TERN_HANDLERS_AWS_REGION"] = Region });
        _client = new HttpClient { BaseAddress = _daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _daemon.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private async Task CreateAsync(string name, string runtime, string source, string fileName, object fields)
    {
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(fields))!.AsObject();
        body["name"] = name;
        body["runtime"] = runtime;
        body["codeFileName"] = fileName;
        body["code"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(source));
        using var response = await _client.PostAsJsonAsync("/v1/functions", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonObject> InvokeAsync(string target)
    {
        using var response = await _client.PostAsync($"/v1/functions/{target}:invoke", new StringContent("{}", Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.True((string?)body["status"] == "success", body.ToJsonString() + "\n" + _daemon.RecentOutput);
        return body;
    }

    private async Task SendAsync(HttpMethod method, string path, string json)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await _client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task Python_SeesTheLambdaEnvironment_AndTheVersionThatRan()
    {
        await CreateAsync("env-py", "python", PythonHandler, "lambda_function.py",
            new { mode = "persistent", handler = "lambda_function.lambda_handler" });

        var latest = (await InvokeAsync("env-py"))["output"]!;
        var env = latest["env"]!;
        Assert.Equal(Region, (string?)env["AWS_REGION"]);
        Assert.Equal(Region, (string?)env["AWS_DEFAULT_REGION"]);
        Assert.Equal(":UTC", (string?)env["TZ"]);
        Assert.Equal("UTC", (string?)latest["zone"]);
        Assert.Matches(@"^AWS_Lambda_python3\.\d+$", (string?)env["AWS_EXECUTION_ENV"]);
        Assert.Equal("/tern/function/env-py", (string?)env["AWS_LAMBDA_LOG_GROUP_NAME"]);
        Assert.Equal((string?)env["AWS_LAMBDA_LOG_GROUP_NAME"], (string?)latest["group"]);
        Assert.Matches(@"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$", (string?)env["AWS_LAMBDA_LOG_STREAM_NAME"]);
        Assert.Equal((string?)env["AWS_LAMBDA_LOG_STREAM_NAME"], (string?)latest["stream"]);
        Assert.Equal("$LATEST", (string?)latest["version"]);
        Assert.Equal("$LATEST", (string?)env["AWS_LAMBDA_FUNCTION_VERSION"]);
        Assert.Equal("$LATEST", (string?)env["TERN_FUNCTION_VERSION"]);
        Assert.Equal("1", (string?)env["TERN_FUNCTION_REVISION"]);
        Assert.Equal("arn:tern:function:env-py:$LATEST", (string?)latest["arn"]);

        await SendAsync(HttpMethod.Post, "/v1/functions/env-py/versions", "{}");                  // version 1 = revision 1
        await SendAsync(HttpMethod.Patch, "/v1/functions/env-py", """{"memoryMb": 192}""");      // revision 2, unpublished
        await SendAsync(HttpMethod.Put, "/v1/functions/env-py/aliases/prod", """{"version": 1}""");

        var published = await InvokeAsync("env-py:1");
        Assert.Equal("1", (string?)published["output"]!["version"]);
        Assert.Equal("1", (string?)published["output"]!["env"]!["AWS_LAMBDA_FUNCTION_VERSION"]);
        Assert.Equal("1", (string?)published["output"]!["env"]!["TERN_FUNCTION_VERSION"]);
        Assert.Equal("1", (string?)published["output"]!["env"]!["TERN_FUNCTION_REVISION"]);
        Assert.Contains("/[1]", (string?)published["output"]!["stream"]);

        var byAlias = await InvokeAsync("env-py:prod");
        Assert.Equal("1", (string?)byAlias["output"]!["version"]);
        Assert.False((bool)byAlias["coldStart"]!, "the alias runs on version 1's warm worker");

        var patched = (await InvokeAsync("env-py"))["output"]!;
        Assert.Equal("$LATEST", (string?)patched["version"]);
        Assert.Equal("2", (string?)patched["env"]!["TERN_FUNCTION_REVISION"]);

        var warmLatest = await InvokeAsync("env-py");
        Assert.False((bool)warmLatest["coldStart"]!, "$LATEST keeps its warm worker");
    }

    [Fact]
    public async Task Node_SeesTheRegion_TheVersionedExecutionEnv_AndThePublishedVersion()
    {
        await CreateAsync("env-node", "node", """
            exports.handler = async (event, context) => ({
              region: process.env.AWS_REGION, exec: process.env.AWS_EXECUTION_ENV, tz: process.env.TZ,
              offset: new Date().getTimezoneOffset(), version: context.functionVersion,
              envVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION, stream: context.logStreamName,
            });
            """, "index.js", new { mode = "persistent", handler = "index.handler" });
        await SendAsync(HttpMethod.Post, "/v1/functions/env-node/versions", "{}");

        var output = (await InvokeAsync("env-node:1"))["output"]!;
        Assert.Equal(Region, (string?)output["region"]);
        Assert.Matches(@"^AWS_Lambda_nodejs\d+\.x$", (string?)output["exec"]);
        Assert.Equal(0, (int)output["offset"]!);
        Assert.Equal("1", (string?)output["version"]);
        Assert.Equal("1", (string?)output["envVersion"]);
        Assert.Matches(@"^\d{4}/\d{2}/\d{2}/\[1\][0-9a-f]{32}$", (string?)output["stream"]);
        Assert.Equal("$LATEST", (string?)(await InvokeAsync("env-node"))["output"]!["version"]);
    }

    [Fact]
    public async Task ProcessMode_SeesTheRegion_AndTheVersionThatRan()
    {
        await CreateAsync("env-process", "python", """
            import json, os
            print(json.dumps({k: os.environ.get(k) for k in ["AWS_REGION", "TZ", "TERN_FUNCTION_VERSION", "TERN_FUNCTION_REVISION"]}))
            """, "main.py", new { });
        var output = (await InvokeAsync("env-process"))["output"]!;
        Assert.Equal(Region, (string?)output["AWS_REGION"]);
        Assert.Equal(":UTC", (string?)output["TZ"]);
        Assert.Equal("$LATEST", (string?)output["TERN_FUNCTION_VERSION"]);
        Assert.Equal("1", (string?)output["TERN_FUNCTION_REVISION"]);
        await SendAsync(HttpMethod.Post, "/v1/functions/env-process/versions", "{}");
        Assert.Equal("1", (string?)(await InvokeAsync("env-process:1"))["output"]!["TERN_FUNCTION_VERSION"]);
    }
}
