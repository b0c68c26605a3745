using System.Text.Json.Nodes;

namespace Tern.Api.Tests.Lambda;

/// <summary>boto3 (the real SDK, in python3 subprocesses) against a real daemon: the calls, their answers, and the
/// exception classes boto3 raises for Tern's errors.</summary>
[Collection(LambdaCollection.Name)]
public sealed class LambdaBoto3Tests(LambdaDaemon tern)
{
    private const string Setup = """
        def create(name, source, **extra):
            return lam.create_function(FunctionName=name, Runtime="python3.12", Role="arn:aws:iam::123456789012:role/r",
                Handler="lambda_function.lambda_handler", Code={"ZipFile": zip_of({"lambda_function.py": source})}, **extra)

        def versioned(code):
            return ('import json\n'
                    'def lambda_handler(event, context):\n'
                    '    print("token", event.get("token"))\n'
                    f'    return {{"code": "{code}", "echo": event}}\n')

        """;

    [Fact]
    public async Task Lifecycle_CreateInvokeTailEventUpdatePublishAliasDelete()
    {
        var out_ = await tern.Boto3Async(Setup + """
            create("b3-life", versioned("one"), Timeout=10, MemorySize=256, Environment={"Variables": {"GREETING": "hi"}})
            r = lam.invoke(FunctionName="b3-life", Payload=json.dumps({"token": "tail-me"}), LogType="Tail")
            out["sync"] = {"status": r["StatusCode"], "payload": json.loads(r["Payload"].read()), "version": r["ExecutedVersion"],
                           "log": base64.b64decode(r["LogResult"]).decode(), "requestId": r["ResponseMetadata"]["RequestId"]}
            r = lam.invoke(FunctionName="b3-life", InvocationType="Event", Payload=json.dumps({"token": "async"}))
            out["event"] = {"status": r["StatusCode"], "requestId": r["ResponseMetadata"]["RequestId"], "body": r["Payload"].read().decode()}
            out["dry"] = lam.invoke(FunctionName="b3-life", InvocationType="DryRun")["StatusCode"]
            out["config"] = lam.get_function_configuration(FunctionName="b3-life")
            lam.update_function_configuration(FunctionName="b3-life", MemorySize=512, Environment={"Variables": {"GREETING": "hello"}})
            out["updated"] = lam.get_function(FunctionName="b3-life")["Configuration"]
            lam.publish_version(FunctionName="b3-life")
            lam.update_function_code(FunctionName="b3-life", ZipFile=zip_of({"lambda_function.py": versioned("two")}))
            out["afterCode"] = json.loads(lam.invoke(FunctionName="b3-life")["Payload"].read())["code"]
            out["v2"] = lam.publish_version(FunctionName="b3-life", Description="second")["Version"]
            out["v1code"] = json.loads(lam.invoke(FunctionName="b3-life", Qualifier="1")["Payload"].read())["code"]
            lam.create_alias(FunctionName="b3-life", Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
            seen = {}
            for i in range(40):
                r = lam.invoke(FunctionName="b3-life:live")
                seen[r["ExecutedVersion"]] = seen.get(r["ExecutedVersion"], 0) + 1
            out["split"] = seen
            out["alias"] = lam.get_alias(FunctionName="b3-life", Name="live")
            lam.update_alias(FunctionName="b3-life", Name="live", FunctionVersion="2", RoutingConfig={"AdditionalVersionWeights": {}})
            out["afterUpdate"] = sorted({lam.invoke(FunctionName="b3-life", Qualifier="live")["ExecutedVersion"] for i in range(5)})
            out["aliases"] = [a["Name"] for a in lam.list_aliases(FunctionName="b3-life")["Aliases"]]
            out["conflict"] = error_of(lambda: lam.create_alias(FunctionName="b3-life", Name="live", FunctionVersion="1"))
            lam.delete_alias(FunctionName="b3-life", Name="live")
            out["aliasGone"] = error_of(lambda: lam.get_alias(FunctionName="b3-life", Name="live"))
            lam.delete_function(FunctionName="b3-life")
            try:
                lam.get_function(FunctionName="b3-life")
                out["gone"] = "still there"
            except lam.exceptions.ResourceNotFoundException as e:
                out["gone"] = type(e).__name__
            """);

        var sync = out_["sync"]!;
        Assert.Equal(200, (int?)sync["status"]);
        Assert.Equal("one", (string?)sync["payload"]!["code"]);
        Assert.Equal("$LATEST", (string?)sync["version"]);
        var log = (string)sync["log"]!;
        Assert.Contains("START RequestId: " + (string?)sync["requestId"], log);
        Assert.Contains("token tail-me", log);
        Assert.Contains("REPORT RequestId:", log);

        Assert.Equal(202, (int?)out_["event"]!["status"]);
        Assert.Equal("", (string?)out_["event"]!["body"]);
        // The Event call is a Tern async execution: its request id is the execution id, and the record finishes.
        var record = await WaitTerminalAsync((string)out_["event"]!["requestId"]!);
        Assert.Equal("success", (string?)record["status"]);
        Assert.Equal("async", (string?)record["output"]!["echo"]!["token"]);

        Assert.Equal(204, (int?)out_["dry"]);
        Assert.Equal(10, (int?)out_["config"]!["Timeout"]);
        Assert.Equal(256, (int?)out_["config"]!["MemorySize"]);
        Assert.Equal("hi", (string?)out_["config"]!["Environment"]!["Variables"]!["GREETING"]);
        Assert.Equal(512, (int?)out_["updated"]!["MemorySize"]);
        Assert.Equal("hello", (string?)out_["updated"]!["Environment"]!["Variables"]!["GREETING"]);
        Assert.Equal("two", (string?)out_["afterCode"]);
        Assert.Equal("2", (string?)out_["v2"]);
        Assert.Equal("one", (string?)out_["v1code"]);

        // 40 calls at 50/50: both versions run (the chance of one never running is 2 * 0.5^40).
        var split = out_["split"]!.AsObject();
        Assert.True((int?)split["1"] > 0 && (int?)split["2"] > 0, split.ToJsonString());
        Assert.Equal(40, (int)split["1"]! + (int)split["2"]!);
        Assert.Equal(0.5, (double?)out_["alias"]!["RoutingConfig"]!["AdditionalVersionWeights"]!["2"]);
        Assert.Equal(["2"], out_["afterUpdate"]!.AsArray().Select(v => (string)v!));
        Assert.Equal(["live"], out_["aliases"]!.AsArray().Select(v => (string)v!));
        Assert.Equal("ResourceConflictException", (string?)out_["conflict"]!["code"]);
        Assert.Equal(409, (int?)out_["conflict"]!["status"]);
        Assert.Equal("ResourceNotFoundException", (string?)out_["aliasGone"]!["code"]);
        Assert.Equal("ResourceNotFoundException", (string?)out_["gone"]);
    }

    [Fact]
    public async Task Errors_RaiseTheSdksExceptionClasses()
    {
        var out_ = await tern.Boto3Async(Setup + """
            out["notFound"] = error_of(lambda: lam.get_function(FunctionName="b3-nothing"))
            out["invokeNotFound"] = error_of(lambda: lam.invoke(FunctionName="b3-nothing"))
            create("b3-errors", versioned("one"))
            out["conflict"] = error_of(lambda: create("b3-errors", versioned("one")))
            out["badRuntime"] = error_of(lambda: lam.create_function(FunctionName="b3-ruby", Runtime="ruby3.3", Role="r",
                Handler="h.h", Code={"ZipFile": zip_of({"h.rb": "x"})}))
            out["badJson"] = error_of(lambda: lam.invoke(FunctionName="b3-errors", Payload=b"{not json"))
            out["badVersion"] = error_of(lambda: lam.invoke(FunctionName="b3-errors", Qualifier="7"))
            """);
        // boto3 raises the modelled class of each (lam.exceptions.X, named as the code), not a bare ClientError.
        foreach (var name in new[] { "notFound", "invokeNotFound", "conflict", "badRuntime", "badJson", "badVersion" })
            Assert.Equal((string?)out_[name]!["code"], (string?)out_[name]!["class"]);
        AssertError(out_["notFound"], "ResourceNotFoundException", 404);
        Assert.Contains("b3-nothing", (string?)out_["notFound"]!["message"]);
        AssertError(out_["invokeNotFound"], "ResourceNotFoundException", 404);
        AssertError(out_["conflict"], "ResourceConflictException", 409);
        AssertError(out_["badRuntime"], "InvalidParameterValueException", 400);
        Assert.Contains("ruby3.3", (string?)out_["badRuntime"]!["message"]);
        AssertError(out_["badJson"], "InvalidRequestContentException", 400);
        AssertError(out_["badVersion"], "ResourceNotFoundException", 404);
    }

    [Fact]
    public async Task OverTheRateLimit_IsTooManyRequestsException_WithRetryAfter()
    {
        await tern.Boto3Async(Setup + """create("b3-throttle", versioned("one"))""");
        using (var patch = await tern.Http.PatchAsync("/v1/functions/b3-throttle",
                   new StringContent("""{"rateLimitPerSecond": 1}""", System.Text.Encoding.UTF8, "application/json")))
            patch.EnsureSuccessStatusCode();
        var out_ = await tern.Boto3Async("""
            out["errors"] = []
            for i in range(5):
                try:
                    lam.invoke(FunctionName="b3-throttle")
                except lam.exceptions.TooManyRequestsException as e:
                    out["errors"].append({"class": type(e).__name__, "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                        "retryAfter": e.response["ResponseMetadata"]["HTTPHeaders"].get("retry-after"), "message": e.response["Error"]["Message"],
                        "reason": e.response.get("Reason")})
            """);
        var errors = out_["errors"]!.AsArray();
        Assert.NotEmpty(errors);
        Assert.All(errors, e =>
        {
            Assert.Equal("TooManyRequestsException", (string?)e!["class"]);
            Assert.Equal(429, (int?)e["status"]);
            Assert.Equal("FunctionInvocationRateLimitExceeded", (string?)e["reason"]);
            Assert.True(int.TryParse((string?)e["retryAfter"], out var seconds) && seconds >= 1, e.ToJsonString());
        });
    }

    [Fact]
    public async Task ListFunctions_MaxItemsAndMarker()
    {
        var out_ = await tern.Boto3Async(Setup + """
            for n in ["b3-list-a", "b3-list-b", "b3-list-c"]:
                create(n, versioned(n))
            pages, marker = [], None
            while True:
                page = lam.list_functions(MaxItems=2, **({"Marker": marker} if marker else {}))
                pages.append([f["FunctionName"] for f in page["Functions"]])
                marker = page.get("NextMarker")
                if not marker:
                    break
            out["pages"] = pages
            out["badMarker"] = error_of(lambda: lam.list_functions(Marker="no-such-marker"))["code"]
            """);
        var pages = out_["pages"]!.AsArray().Select(p => p!.AsArray().Select(n => (string)n!).ToList()).ToList();
        Assert.All(pages, p => Assert.InRange(p.Count, 1, 2));
        var names = pages.SelectMany(p => p).ToList();
        Assert.Equal(names.Distinct().Count(), names.Count);
        Assert.Equal(["b3-list-a", "b3-list-b", "b3-list-c"], names.Where(n => n.StartsWith("b3-list-", StringComparison.Ordinal)));
        Assert.Equal("InvalidParameterValueException", (string?)out_["badMarker"]);
    }

    [Fact]
    public async Task SigV4_WrongSecret_UnknownKey_Unsigned_AndATamperedBody_Are403()
    {
        var out_ = await tern.Boto3Async("""
            out["signed"] = len(lam.list_functions()["Functions"]) >= 0
            out["wrongSecret"] = error_of(lambda: client(secret="0" * 64).list_functions())
            out["unknownKey"] = error_of(lambda: client(key_id="AKIDUNKNOWN").list_functions())
            out["unsigned"] = error_of(lambda: client(signed=False).list_functions())
            # A signed request whose body is changed after signing: the signature covers the body's SHA-256.
            tampered = client()
            def swap_body(request, **kwargs):
                request.body = b'{"FunctionName": "b3-tampered", "Runtime": "python3.12", "Role": "r", "Handler": "x.y", "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}'
                request.headers["Content-Length"] = str(len(request.body))
            tampered.meta.events.register("before-send.lambda.CreateFunction", swap_body)
            out["tampered"] = error_of(lambda: tampered.create_function(FunctionName="b3-signed", Runtime="python3.12", Role="r",
                Handler="x.y", Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18}))
            """);
        Assert.True((bool?)out_["signed"]);
        AssertError(out_["wrongSecret"], "InvalidSignatureException", 403);
        AssertError(out_["unknownKey"], "UnrecognizedClientException", 403);
        AssertError(out_["unsigned"], "MissingAuthenticationTokenException", 403);
        AssertError(out_["tampered"], "InvalidSignatureException", 403);
        Assert.Contains("signature", (string?)out_["wrongSecret"]!["message"], StringComparison.OrdinalIgnoreCase);
        Assert.Equal("InvalidSignatureException", (string?)out_["wrongSecret"]!["headers"]!["x-amzn-errortype"]);
        // Nothing was created by the tampered request.
        using var gone = await tern.Http.GetAsync("/v1/functions/b3-tampered");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
    }

    /// <summary>Needs AWS_REGION in the handler's environment (set by the runtime side of issue 13).</summary>
    [Fact]
    public async Task HandlerReadingAwsRegion_RunsUnmodified()
    {
        var out_ = await tern.Boto3Async("""
            source = ('import os\n'
                      'def lambda_handler(event, context):\n'
                      '    return {"region": os.environ["AWS_REGION"]}\n')
            lam.create_function(FunctionName="b3-region", Runtime="python3.12", Role="r", Handler="lambda_function.lambda_handler",
                Code={"ZipFile": zip_of({"lambda_function.py": source})})
            r = lam.invoke(FunctionName="b3-region")
            out["error"] = r.get("FunctionError")
            out["payload"] = json.loads(r["Payload"].read())
            """);
        Assert.True(out_["error"] is null, "the handler failed: " + out_["payload"]!.ToJsonString());
        Assert.False(string.IsNullOrEmpty((string?)out_["payload"]!["region"]));
    }

    private static void AssertError(JsonNode? error, string code, int status)
    {
        Assert.NotNull(error);
        Assert.True(code == (string?)error["code"] && status == (int?)error["status"], $"expected {code} {status}, got {error.ToJsonString()}");
    }

    private async Task<JsonObject> WaitTerminalAsync(string executionId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var record = JsonNode.Parse(await tern.Http.GetStringAsync($"/v1/executions/{executionId}"))!.AsObject();
            if ((string?)record["status"] is "success" or "error" or "timeout") return record;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"execution {executionId} is still {(string?)record["status"]}");
            await Task.Delay(100);
        }
    }
}
