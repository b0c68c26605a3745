using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Tern.Api.Tests.Lambda;

[CollectionDefinition(Name)]
public sealed class LambdaCollection : ICollectionFixture<LambdaDaemon>
{
    public const string Name = "Lambda API against a real daemon";
}

/// <summary>The real aws CLI (`aws lambda ...` with --endpoint-url) against a real daemon, SigV4-signed with an API key.</summary>
[Collection(LambdaCollection.Name)]
public sealed class LambdaCliTests(LambdaDaemon tern)
{
    private const string Role = "arn:aws:iam::123456789012:role/lambda-role";

    private Task<JsonNode> CreateAsync(string name, string zip) => tern.AwsJsonAsync("lambda", "create-function", "--function-name", name,
        "--runtime", "python3.12", "--role", Role, "--handler", LambdaHandlers.Handler, "--zip-file", "fileb://" + zip);

    [Fact]
    public async Task CreateFromZip_Invoke_WritesTheOutputFile_ThenUpdateCode_RunsTheNewCode()
    {
        var v1 = tern.Zip("cli-one-v1", LambdaHandlers.Versioned("one"));
        var created = await CreateAsync("cli-one", v1);
        Assert.Equal("cli-one", (string?)created["FunctionName"]);
        Assert.Equal($"arn:aws:lambda:{LambdaDaemon.Region}:000000000000:function:cli-one", (string?)created["FunctionArn"]);
        Assert.Equal("python3.12", (string?)created["Runtime"]);
        Assert.Equal("Active", (string?)created["State"]);
        Assert.Equal("$LATEST", (string?)created["Version"]);
        Assert.Equal(Convert.ToBase64String(SHA256.HashData(File.ReadAllBytes(v1))), (string?)created["CodeSha256"]);
        Assert.Equal(new FileInfo(v1).Length, (long?)created["CodeSize"]);

        var eventFile = tern.WriteFile("cli-one-event.json", """{"token": "t-1", "n": 42}""");
        var output = Path.Combine(tern.WorkDir, "cli-one-out.json");
        var invoked = await tern.AwsJsonAsync("lambda", "invoke", "--function-name", "cli-one", "--payload", "fileb://" + eventFile, output);
        Assert.Equal(200, (int?)invoked["StatusCode"]);
        Assert.Equal("$LATEST", (string?)invoked["ExecutedVersion"]);
        Assert.Null(invoked["FunctionError"]);
        var result = JsonNode.Parse(File.ReadAllText(output))!;
        Assert.Equal("one", (string?)result["code"]);
        Assert.Equal(42, (int?)result["echo"]!["n"]);

        var got = await tern.AwsJsonAsync("lambda", "get-function", "--function-name", "cli-one");
        Assert.Equal("cli-one", (string?)got["Configuration"]!["FunctionName"]);
        Assert.Equal(LambdaHandlers.Handler, (string?)got["Configuration"]!["Handler"]);

        var v2 = tern.Zip("cli-one-v2", LambdaHandlers.Versioned("two"));
        var updated = await tern.AwsJsonAsync("lambda", "update-function-code", "--function-name", "cli-one", "--zip-file", "fileb://" + v2);
        Assert.Equal(Convert.ToBase64String(SHA256.HashData(File.ReadAllBytes(v2))), (string?)updated["CodeSha256"]);
        await tern.AwsJsonAsync("lambda", "invoke", "--function-name", "cli-one", "--payload", "fileb://" + eventFile, output);
        Assert.Equal("two", (string?)JsonNode.Parse(File.ReadAllText(output))!["code"]);
    }

    [Fact]
    public async Task EventInvoke_Is202_AndRunsThroughTheAsyncQueue()
    {
        await CreateAsync("cli-event", tern.Zip("cli-event", LambdaHandlers.Versioned("one")));
        var token = Guid.NewGuid().ToString("N");
        var eventFile = tern.WriteFile("cli-event.json", $$"""{"token": "{{token}}"}""");
        var output = Path.Combine(tern.WorkDir, "cli-event-out.json");
        var accepted = await tern.AwsJsonAsync("lambda", "invoke", "--function-name", "cli-event", "--invocation-type", "Event",
            "--payload", "fileb://" + eventFile, output);
        Assert.Equal(202, (int?)accepted["StatusCode"]);
        // The call ran later, on the queue: its print reaches the function's logs.
        try
        {
            await Tern.Testing.Eventually.TrueAsync(async () =>
                (await tern.Http.GetStringAsync("/v1/functions/cli-event/logs")).Contains(token, StringComparison.Ordinal),
                "the Event call's log line", 30_000);
        }
        catch (TimeoutException e)
        {
            // Seen once in a full run: say whether the call failed or ran and lost its line.
            var executions = await tern.Http.GetStringAsync("/v1/executions?function=cli-event");
            var logs = await tern.Http.GetStringAsync("/v1/functions/cli-event/logs");
            throw new TimeoutException($"{e.Message}; executions: {executions}; logs: {logs}", e);
        }
    }

    [Fact]
    public async Task HandlerError_HasTheFunctionErrorHeader_AndLambdasErrorPayload()
    {
        await CreateAsync("cli-fail", tern.Zip("cli-fail", LambdaHandlers.Failing));
        var eventFile = tern.WriteFile("cli-fail.json", """{"why": "bad input"}""");
        var output = Path.Combine(tern.WorkDir, "cli-fail-out.json");
        var invoked = await tern.AwsJsonAsync("lambda", "invoke", "--function-name", "cli-fail", "--payload", "fileb://" + eventFile, output);
        Assert.Equal(200, (int?)invoked["StatusCode"]);
        Assert.Equal("Unhandled", (string?)invoked["FunctionError"]);
        var payload = JsonNode.Parse(File.ReadAllText(output))!.AsObject();
        Assert.Equal("boom: bad input", (string?)payload["errorMessage"]);
        Assert.Equal("ValueError", (string?)payload["errorType"]);
        // The user's frame only (the raise in lambda_handler), none of Tern's bootstrap.
        var frames = payload["stackTrace"]!.AsArray().Select(f => (string)f!).ToList();
        Assert.Contains(frames, f => f.Contains("lambda_handler", StringComparison.Ordinal));
        Assert.DoesNotContain(frames, f => f.Contains("/opt/tern/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListFunctions_PagesThroughMarkers()
    {
        foreach (var name in new[] { "cli-page-a", "cli-page-b", "cli-page-c" })
            await CreateAsync(name, tern.Zip(name, LambdaHandlers.Versioned(name)));
        // --page-size 1: one function per request, the CLI following NextMarker -> Marker to the end.
        var all = await tern.AwsJsonAsync("lambda", "list-functions", "--page-size", "1");
        var names = all["Functions"]!.AsArray().Select(f => (string)f!["FunctionName"]!).Where(n => n.StartsWith("cli-page-", StringComparison.Ordinal));
        Assert.Equal(["cli-page-a", "cli-page-b", "cli-page-c"], names);
        // --max-items 1: a first page and a token for the rest.
        var first = await tern.AwsJsonAsync("lambda", "list-functions", "--page-size", "1", "--max-items", "1");
        Assert.Single(first["Functions"]!.AsArray());
        Assert.False(string.IsNullOrEmpty((string?)first["NextToken"]));
        var rest = await tern.AwsJsonAsync("lambda", "list-functions", "--page-size", "1", "--starting-token", (string)first["NextToken"]!);
        Assert.DoesNotContain(rest["Functions"]!.AsArray(), f => (string?)f!["FunctionName"] == (string?)first["Functions"]![0]!["FunctionName"]);
    }

    [Fact]
    public async Task PublishVersions_AndAnAliasWithAWeightedSplit()
    {
        await CreateAsync("cli-alias", tern.Zip("cli-alias-v1", LambdaHandlers.Versioned("one")));
        Assert.Equal("1", (string?)(await tern.AwsJsonAsync("lambda", "publish-version", "--function-name", "cli-alias"))["Version"]);
        await tern.AwsJsonAsync("lambda", "update-function-code", "--function-name", "cli-alias", "--zip-file", "fileb://" + tern.Zip("cli-alias-v2", LambdaHandlers.Versioned("two")));
        Assert.Equal("2", (string?)(await tern.AwsJsonAsync("lambda", "publish-version", "--function-name", "cli-alias", "--description", "second"))["Version"]);

        var alias = await tern.AwsJsonAsync("lambda", "create-alias", "--function-name", "cli-alias", "--name", "live", "--function-version", "1",
            "--routing-config", """{"AdditionalVersionWeights": {"2": 0.4}}""");
        Assert.Equal("1", (string?)alias["FunctionVersion"]);
        Assert.Equal(0.4, (double?)alias["RoutingConfig"]!["AdditionalVersionWeights"]!["2"]);
        Assert.EndsWith(":function:cli-alias:live", (string?)alias["AliasArn"]);

        var output = Path.Combine(tern.WorkDir, "cli-alias-out.json");
        var invoked = await tern.AwsJsonAsync("lambda", "invoke", "--function-name", "cli-alias", "--qualifier", "live", output);
        var ran = (string?)invoked["ExecutedVersion"];
        Assert.Contains(ran ?? "(none)", new[] { "1", "2" });
        Assert.Equal(ran == "1" ? "one" : "two", (string?)JsonNode.Parse(File.ReadAllText(output))!["code"]);

        var versions = await tern.AwsJsonAsync("lambda", "list-versions-by-function", "--function-name", "cli-alias");
        Assert.Equal(["$LATEST", "1", "2"], versions["Versions"]!.AsArray().Select(v => (string)v!["Version"]!));
    }

    [Fact]
    public async Task UnknownFunction_IsResourceNotFoundException()
    {
        var (exit, _, stderr) = await tern.AwsAsync("lambda", "get-function", "--function-name", "no-such-function");
        Assert.NotEqual(0, exit);
        Assert.Contains("(ResourceNotFoundException)", stderr);
        Assert.Contains("no-such-function", stderr);
    }
}
