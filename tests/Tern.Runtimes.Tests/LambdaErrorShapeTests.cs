using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Runtimes.Tests;

/// <summary>A handler exception in persistent mode, through the HTTP API in the real sandbox: Tern's error keeps its
/// code and message, and also carries Lambda's errorType, errorMessage and stackTrace (the user's frames only, never
/// the bootstrap's), the message says "Type: message" once, and the answer has X-Amz-Function-Error: Unhandled.</summary>
public sealed class LambdaErrorShapeTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static byte[] Text(string source) => Encoding.UTF8.GetBytes(source);

    /// <summary>Invokes, checks the parts every runtime shares, and returns the error object.</summary>
    private async Task<JsonObject> FailingCallAsync(string name, string eventJson = "{}", bool lambdaShape = true)
    {
        using var response = await daemon.Client.PostAsync($"/v1/functions/{name}:invoke",
            new StringContent(eventJson, Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.True((int)response.StatusCode == 200, body.ToJsonString());
        Assert.Equal("error", (string?)body["status"]);
        Assert.Equal("Unhandled", response.Headers.GetValues("X-Amz-Function-Error").Single());
        var error = body["error"]!.AsObject();
        Assert.Equal("HandlerFailed", (string?)error["code"]);
        if (lambdaShape) Assert.IsType<JsonArray>(error["stackTrace"]);
        return error;
    }

    private static string[] Frames(JsonObject error) => [.. error["stackTrace"]!.AsArray().Select(f => (string)f!)];

    private static int Count(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static void AssertNoBootstrapFrames(string[] frames, string message)
    {
        Assert.NotEmpty(frames);
        Assert.All(frames, f => Assert.DoesNotContain("/opt/tern/runtimes", f));
        Assert.DoesNotContain("/opt/tern/runtimes", message);
        Assert.DoesNotContain("node:internal", message);
    }

    [Fact]
    public async Task Python_KeyError_HasLambdasShape_WithOnlyTheHandlersFrames()
    {
        await daemon.CreateOkAsync("les-py", "python", Text("""
            def helper(event):
                return event["cube"]

            def lambda_handler(event, context):
                return helper(event)
            """), "lambda_function.py", new { mode = "persistent", handler = "lambda_function.lambda_handler" });

        var error = await FailingCallAsync("les-py");

        Assert.Equal("KeyError", (string?)error["errorType"]);
        Assert.Equal("'cube'", (string?)error["errorMessage"]);
        var frames = Frames(error);
        Assert.Equal(2, frames.Length);
        Assert.StartsWith("  File \"/code/lambda_function.py\", line 5, in lambda_handler", frames[0]);
        Assert.StartsWith("  File \"/code/lambda_function.py\", line 2, in helper", frames[1]);
        var message = (string)error["message"]!;
        Assert.StartsWith("KeyError: 'cube'\nTraceback (most recent call last):", message);
        Assert.Equal(1, Count(message, "KeyError: 'cube'"));
        AssertNoBootstrapFrames(frames, message);
    }

    [Fact]
    public async Task Node_CommonJsThrow_HasLambdasShape_AndTheMessageOnce()
    {
        await daemon.CreateOkAsync("les-node-cjs", "node", Text("""
            function check(event) {
              if (!event.cube) throw new TypeError('cube is missing');
            }
            exports.handler = async (event) => { check(event); return 1; };
            """), "index.js", new { mode = "persistent", handler = "index.handler" });

        var error = await FailingCallAsync("les-node-cjs");

        Assert.Equal("TypeError", (string?)error["errorType"]);
        Assert.Equal("cube is missing", (string?)error["errorMessage"]);
        var frames = Frames(error);
        Assert.Equal(2, frames.Length);
        Assert.Matches(@"^\s+at check \(/code/index\.js:2:\d+\)$", frames[0]);
        Assert.Matches(@"^\s+at exports\.handler \(/code/index\.js:4:\d+\)$", frames[1]);
        var message = (string)error["message"]!;
        Assert.StartsWith("TypeError: cube is missing\n    at check", message);
        Assert.Equal(1, Count(message, "cube is missing"));
        AssertNoBootstrapFrames(frames, message);
    }

    [Fact]
    public async Task Node_EsModuleRejection_AfterAnAwait_HasLambdasShape()
    {
        await daemon.CreateOkAsync("les-node-mjs", "node", Text("""
            export const handler = async (event) => {
              await new Promise((resolve) => setTimeout(resolve, 5));
              throw new RangeError('too far: ' + event.n);
            };
            """), "index.mjs", new { mode = "persistent", handler = "index.handler" });

        var error = await FailingCallAsync("les-node-mjs", """{"n": 7}""");

        Assert.Equal("RangeError", (string?)error["errorType"]);
        Assert.Equal("too far: 7", (string?)error["errorMessage"]);
        var frames = Frames(error);
        Assert.Contains("file:///code/index.mjs:3:", frames[0]);
        var message = (string)error["message"]!;
        Assert.Equal(1, Count(message, "too far: 7"));
        AssertNoBootstrapFrames(frames, message);
    }

    [Fact]
    public async Task Node_CallbackError_HasLambdasShape()
    {
        await daemon.CreateOkAsync("les-node-cb", "node", Text("""
            exports.handler = function (event, context, callback) {
              setTimeout(() => callback(new Error('late failure')), 5);
            };
            """), "index.js", new { mode = "persistent", handler = "index.handler" });

        var error = await FailingCallAsync("les-node-cb");

        Assert.Equal("Error", (string?)error["errorType"]);
        Assert.Equal("late failure", (string?)error["errorMessage"]);
        var frames = Frames(error);
        Assert.Contains("/code/index.js:2:", frames[0]);
        Assert.All(frames, f => Assert.DoesNotContain("node:internal", f)); // Node's timer machinery is not the user's code
        var message = (string)error["message"]!;
        Assert.Equal(1, Count(message, "late failure"));
        AssertNoBootstrapFrames(frames, message);
    }

    [Fact]
    public async Task Java_Exception_HasLambdasShape_WithoutBootstrapOrReflectionFrames()
    {
        var jar = Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), "persistent-java/handler.jar");
        await daemon.CreateOkAsync("les-java", "java", await File.ReadAllBytesAsync(jar), "handler.jar",
            new { mode = "persistent", handler = "example.Hello::handleRequest", memoryMb = 512 });

        var error = await FailingCallAsync("les-java", """{"fail": true}""");

        Assert.Equal("java.lang.IllegalStateException", (string?)error["errorType"]);
        Assert.Equal("boom: requested failure", (string?)error["errorMessage"]);
        var frames = Frames(error);
        Assert.StartsWith("example.Hello.handleRequest(Hello.java:", Assert.Single(frames));
        var message = (string)error["message"]!;
        Assert.StartsWith("java.lang.IllegalStateException: boom: requested failure\n\tat example.Hello.handleRequest(Hello.java:", message);
        Assert.Equal(1, Count(message, "boom: requested failure"));
        Assert.DoesNotContain("TernBootstrap", message);
        Assert.DoesNotContain("reflect", message);
    }

    [Fact]
    public async Task Dotnet_Exception_HasLambdasShape_WithoutBootstrapFrames()
    {
        var dir = Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), "persistent-dotnet");
        using var zip = new MemoryStream();
        ZipFile.CreateFromDirectory(dir, zip);
        await daemon.CreateOkAsync("les-dotnet", "dotnet", zip.ToArray(), null,
            new { mode = "persistent", handler = "Greeter::Greeter.Function::Handler", memoryMb = 256 });

        var error = await FailingCallAsync("les-dotnet", """{"fail": true}""");

        Assert.Equal("InvalidOperationException", (string?)error["errorType"]);
        Assert.Equal("boom: requested failure", (string?)error["errorMessage"]);
        var frames = Frames(error);
        Assert.StartsWith("at Greeter.Function.Handler(", frames[0]);
        Assert.All(frames, f => Assert.DoesNotContain("Tern.Bootstrap", f));
        var message = (string)error["message"]!;
        Assert.Equal(1, Count(message, "boom: requested failure"));
        Assert.DoesNotContain("Tern.Bootstrap", message);
    }

    [Fact]
    public async Task ProcessMode_Failure_KeepsTernsShape_WithoutLambdaFields()
    {
        await daemon.CreateOkAsync("les-process", "python", Text("import sys\nsys.exit('boom')\n"), "main.py");

        var error = await FailingCallAsync("les-process", lambdaShape: false);

        Assert.Contains("boom", (string?)error["message"]);
        Assert.Null(error["errorType"]);
        Assert.Null(error["stackTrace"]);
    }

    [Fact]
    public async Task Success_HasNoFunctionErrorHeader()
    {
        await daemon.CreateOkAsync("les-ok", "python", Text("def lambda_handler(event, context):\n    return 1\n"), "lambda_function.py",
            new { mode = "persistent", handler = "lambda_function.lambda_handler" });
        using var response = await daemon.Client.PostAsync("/v1/functions/les-ok:invoke", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal("success", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]);
        Assert.False(response.Headers.Contains("X-Amz-Function-Error"));
    }
}
