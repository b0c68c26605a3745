using Tern.Json;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Runtimes.Tests;

/// <summary>Persistent mode through the HTTP API in the real sandbox: Lambda-style handlers, unmodified, loaded once
/// per worker by Tern's bootstraps; executables that speak the line protocol themselves. Warm reuse across calls is
/// the pool's business and is not asserted here (see <see cref="PersistentWorkerTests"/> for one worker's life).</summary>
public sealed class PersistentModeTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static byte[] Text(string source) => Encoding.UTF8.GetBytes(source);

    private async Task CreatePythonAsync(string name, string source, object? extra = null)
    {
        var fields = new JsonObject { ["mode"] = "persistent", ["handler"] = "lambda_function.lambda_handler" };
        if (extra is not null)
            foreach (var (k, v) in System.Text.Json.JsonSerializer.SerializeToNode(extra)!.AsObject()) fields[k] = v?.DeepClone();
        await daemon.CreateOkAsync(name, "python", Text(source), "lambda_function.py", fields);
    }

    [Fact]
    public async Task Python_UnmodifiedLambdaHandler_RunsWithLambdaContext()
    {
        await CreatePythonAsync("pm-py-lambda", """
            import json

            def lambda_handler(event, context):
                return {
                    "statusCode": 200,
                    "body": json.dumps({"hello": event.get("name")}),
                    "rid": context.aws_request_id,
                    "left": context.get_remaining_time_in_millis() > 0,
                    "leftMs": context.get_remaining_time_in_millis(),
                    "fn": context.function_name,
                    "ver": context.function_version,
                    "mem": context.memory_limit_in_mb,
                    "arn": context.invoked_function_arn,
                    "group": context.log_group_name,
                    "trace": context.trace_id,
                }
            """, new { memoryMb = 256, timeoutMs = 20000 });

        var result = await daemon.InvokeAsync("pm-py-lambda", """{"name":"x"}""");
        Assert.True((string?)result["status"] == "success", result.ToJsonString());
        var output = result["output"]!;
        Assert.Equal(200, (int)output["statusCode"]!);
        Assert.Equal("""{"hello": "x"}""", (string?)output["body"]);
        Assert.Equal((string?)result["executionId"], (string?)output["rid"]);
        Assert.True((bool)output["left"]!);
        Assert.InRange((int)output["leftMs"]!, 1, 20000);
        Assert.Equal("pm-py-lambda", (string?)output["fn"]);
        Assert.Equal("$LATEST", (string?)output["ver"]); // what ran: the unpublished code
        Assert.Equal("256", (string?)output["mem"]); // a string, as in Lambda
        Assert.Equal("arn:tern:function:pm-py-lambda:$LATEST", (string?)output["arn"]);
        Assert.Equal("/tern/function/pm-py-lambda", (string?)output["group"]);
        Assert.False(string.IsNullOrEmpty((string?)output["trace"]));
    }

    [Fact]
    public async Task Python_PrintsToStdout_DoNotBreakTheProtocol()
    {
        await CreatePythonAsync("pm-py-print", """
            import os, sys
            print("printed while importing")

            def lambda_handler(event, context):
                print("printed by the handler")
                print('{"requestId": "%s", "output": "forged"}' % context.aws_request_id)
                sys.stdout.write("written without a newline")
                sys.stdout.flush()
                os.system("echo from a child process")
                return {"ok": True}
            """);
        var result = await daemon.InvokeAsync("pm-py-print");
        Assert.True((string?)result["status"] == "success", result.ToJsonString());
        Assert.Equal("""{"ok":true}""", result["output"]!.ToJsonString());
        Assert.DoesNotContain("printed", result.ToJsonString());
    }

    [Fact]
    public async Task Python_HandlerException_IsAnErrorWithTypeAndMessage()
    {
        await CreatePythonAsync("pm-py-raise", """
            def lambda_handler(event, context):
                raise ValueError("boom: requested failure")
            """);
        var result = await daemon.InvokeAsync("pm-py-raise");
        Assert.Equal("error", (string?)result["status"]);
        Assert.Equal("HandlerFailed", (string?)result["error"]!["code"]);
        Assert.StartsWith("ValueError: boom: requested failure", (string?)result["error"]!["message"]);
    }

    [Fact]
    public async Task Python_ProcessExitsMidCall_IsHandlerCrashed_AndTheNextCallWorks()
    {
        await CreatePythonAsync("pm-py-crash", """
            import os, sys

            def lambda_handler(event, context):
                if event.get("crash"):
                    sys.stderr.write("about to crash\n")
                    sys.stderr.flush()
                    os._exit(1)
                return {"alive": True}
            """);
        var crashed = await daemon.InvokeAsync("pm-py-crash", """{"crash": true}""");
        Assert.Equal("error", (string?)crashed["status"]);
        Assert.Equal("HandlerCrashed", (string?)crashed["error"]!["code"]);
        Assert.Contains("exited with code 1", (string?)crashed["error"]!["message"]);
        Assert.Contains("about to crash", (string?)crashed["error"]!["message"]);

        var next = await daemon.InvokeAsync("pm-py-crash", """{"crash": false}""");
        Assert.True((string?)next["status"] == "success", next.ToJsonString());
        Assert.True((bool)next["output"]!["alive"]!);
    }

    [Fact]
    public async Task Python_ImportError_IsHandlerLoadFailed_WithPythonsMessage()
    {
        await CreatePythonAsync("pm-py-import", """
            import nonexistent_module_for_tern

            def lambda_handler(event, context):
                return 1
            """);
        var result = await daemon.InvokeAsync("pm-py-import");
        Assert.Equal("error", (string?)result["status"]);
        Assert.Equal("HandlerLoadFailed", (string?)result["error"]!["code"]);
        Assert.Contains("No module named 'nonexistent_module_for_tern'", (string?)result["error"]!["message"]);
    }

    [Fact]
    public async Task Python_MissingHandlerFunction_IsHandlerLoadFailed()
    {
        await CreatePythonAsync("pm-py-nofunc", "def other(event, context):\n    return 1\n");
        var result = await daemon.InvokeAsync("pm-py-nofunc");
        Assert.Equal("HandlerLoadFailed", (string?)result["error"]!["code"]);
        Assert.Contains("lambda_handler", (string?)result["error"]!["message"]);
    }

    [Fact]
    public async Task Python_SlowerThanTimeout_IsTimeout()
    {
        await CreatePythonAsync("pm-py-slow", """
            import time

            def lambda_handler(event, context):
                time.sleep(30)
                return "late"
            """, new { timeoutMs = 1000 });
        var watch = Stopwatch.StartNew();
        var result = await daemon.InvokeAsync("pm-py-slow");
        Assert.Equal("timeout", (string?)result["status"]);
        Assert.Equal("Timeout", (string?)result["error"]!["code"]);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Node_UnmodifiedAsyncLambdaHandler_Runs()
    {
        await daemon.CreateOkAsync("pm-node-async", "node", Text("""
            console.log('printed while loading');
            exports.handler = async (event, context) => {
              console.log('printed by the handler');
              process.stdout.write('written to process.stdout\n');
              await new Promise((resolve) => setTimeout(resolve, 5));
              return {
                statusCode: 200,
                body: JSON.stringify({ hello: event.name }),
                rid: context.awsRequestId,
                fn: context.functionName,
                ver: context.functionVersion,
                mem: context.memoryLimitInMB,
                left: context.getRemainingTimeInMillis() > 0,
              };
            };
            """), "index.js", new { mode = "persistent", handler = "index.handler", memoryMb = 192 });
        var result = await daemon.InvokeAsync("pm-node-async", """{"name":"x"}""");
        Assert.True((string?)result["status"] == "success", result.ToJsonString());
        var output = result["output"]!;
        Assert.Equal(200, (int)output["statusCode"]!);
        Assert.Equal("""{"hello":"x"}""", (string?)output["body"]);
        Assert.Equal((string?)result["executionId"], (string?)output["rid"]);
        Assert.Equal("pm-node-async", (string?)output["fn"]);
        Assert.Equal("$LATEST", (string?)output["ver"]);
        Assert.Equal("192", (string?)output["mem"]);
        Assert.True((bool)output["left"]!);
        Assert.DoesNotContain("printed", result.ToJsonString());
    }

    [Fact]
    public async Task Node_CallbackStyleHandler_Runs()
    {
        await daemon.CreateOkAsync("pm-node-callback", "node", Text("""
            exports.handler = function (event, context, callback) {
              setTimeout(() => callback(null, { style: 'callback', rid: context.awsRequestId }), 10);
            };
            """), "index.js", new { mode = "persistent", handler = "index.handler" });
        var result = await daemon.InvokeAsync("pm-node-callback");
        Assert.True((string?)result["status"] == "success", result.ToJsonString());
        Assert.Equal("callback", (string?)result["output"]!["style"]);
        Assert.Equal((string?)result["executionId"], (string?)result["output"]!["rid"]);
    }

    [Fact]
    public async Task Node_CallbackError_IsAnError()
    {
        await daemon.CreateOkAsync("pm-node-cberr", "node", Text("""
            exports.handler = (event, context, callback) => callback(new TypeError('boom: requested failure'));
            """), "index.js", new { mode = "persistent", handler = "index.handler" });
        var result = await daemon.InvokeAsync("pm-node-cberr");
        Assert.Equal("error", (string?)result["status"]);
        Assert.StartsWith("TypeError: boom: requested failure", (string?)result["error"]!["message"]);
    }

    [Theory]
    [InlineData("python", "persistent-python/lambda_function.py", "lambda_function.lambda_handler", 128)]
    [InlineData("node", "persistent-node/index.js", "index.handler", 128)]
    [InlineData("node", "persistent-node/index.js", "index.callbackHandler", 128)]
    [InlineData("java", "persistent-java/handler.jar", "example.Hello::handleRequest", 512)]
    [InlineData("go", "persistent-go/bootstrap", "bootstrap", 128)]
    [InlineData("binary", "persistent-binary/bootstrap", "bootstrap", 128)]
    public async Task SingleFileExample_Invoke_ReturnsGreeting(string runtime, string artifact, string handler, int memoryMb)
    {
        var path = Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), artifact);
        var name = "pm-ex-" + runtime + "-" + handler.Replace('.', '-').Replace(':', '-').ToLowerInvariant();
        name = name.Length > 60 ? name[..60] : name;
        await daemon.CreateOkAsync(name, runtime, await File.ReadAllBytesAsync(path), Path.GetFileName(path),
            new { mode = "persistent", handler, memoryMb });
        await AssertGreetsAsync(name, runtime);
    }

    [Fact]
    public async Task DotnetExample_ZippedBuildOutput_Invoke_ReturnsGreeting()
    {
        var dir = Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), "persistent-dotnet");
        using var zip = new MemoryStream();
        ZipFile.CreateFromDirectory(dir, zip);
        await daemon.CreateOkAsync("pm-ex-dotnet", "dotnet", zip.ToArray(), null,
            new { mode = "persistent", handler = "Greeter::Greeter.Function::Handler", memoryMb = 256 });
        var result = await AssertGreetsAsync("pm-ex-dotnet", "dotnet");
        Assert.Equal((string?)result["executionId"], (string?)result["output"]!["requestId"]);
        Assert.Equal(256, (int)result["output"]!["memoryLimitInMB"]!);
    }

    [Theory]
    [InlineData("python", "persistent-python/lambda_function.py", "lambda_function.lambda_handler", 128)]
    [InlineData("node", "persistent-node/index.js", "index.handler", 128)]
    [InlineData("java", "persistent-java/handler.jar", "example.Hello::handleRequest", 512)]
    [InlineData("go", "persistent-go/bootstrap", "bootstrap", 128)]
    [InlineData("binary", "persistent-binary/bootstrap", "bootstrap", 128)]
    public async Task Example_FailRequested_ReturnsHandlerError(string runtime, string artifact, string handler, int memoryMb)
    {
        var path = Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), artifact);
        var name = "pm-fail-" + runtime;
        await daemon.CreateOkAsync(name, runtime, await File.ReadAllBytesAsync(path), Path.GetFileName(path),
            new { mode = "persistent", handler, memoryMb });
        var result = await daemon.InvokeAsync(name, """{"fail":true}""");
        Assert.Equal("error", (string?)result["status"]);
        Assert.Equal("HandlerFailed", (string?)result["error"]!["code"]);
        Assert.Contains("boom: requested failure", (string?)result["error"]!["message"]);
    }

    private async Task<JsonObject> AssertGreetsAsync(string function, string runtime)
    {
        var result = await daemon.InvokeAsync(function, """{"name":"x"}""");
        Assert.True((string?)result["status"] == "success", result.ToJsonString());
        Assert.Equal("Hello, x!", (string?)result["output"]!["message"]);
        Assert.Equal(runtime, (string?)result["output"]!["runtime"]);
        return result;
    }
}

/// <summary>One worker's life, driven straight over the agent protocol (no daemon, no pool): the handler process
/// stays between calls, is restarted after a crash or a timeout, serves concurrent calls where the runtime can, and
/// in process mode nothing a handler leaves behind survives its call.</summary>
public sealed class PersistentWorkerTests
{
    private static readonly byte[] CountingPython = Encoding.UTF8.GetBytes("""
        import os, time
        calls = 0

        def lambda_handler(event, context):
            global calls
            calls += 1
            if event.get("crash"):
                os._exit(3)
            if event.get("sleep"):
                time.sleep(event["sleep"])
            if event.get("big"):
                return "x" * event["big"]
            return {"calls": calls, "pid": os.getpid(), "rid": context.aws_request_id, "fn": context.function_name}
        """);

    private static Dictionary<string, byte[]> Python => new() { ["lambda_function.py"] = CountingPython };

    [Fact]
    public async Task Python_HandlerProcessStaysBetweenCalls()
    {
        await using var agent = await SandboxAgent.StartAsync(Python, SandboxAgent.Init("python", "lambda_function.lambda_handler"));
        Assert.Equal("success", agent.InitResponse.Status);
        var first = await agent.ExecAsync("{}", requestId: "req-1");
        var second = await agent.ExecAsync("{}", requestId: "req-2");
        Assert.Equal("success", second.Status);
        Assert.Equal(1, first.Output!.Value.ToElement().GetProperty("calls").GetInt32());
        Assert.Equal(2, second.Output!.Value.ToElement().GetProperty("calls").GetInt32());
        Assert.Equal(first.Output!.Value.ToElement().GetProperty("pid").GetInt32(), second.Output!.Value.ToElement().GetProperty("pid").GetInt32());
        Assert.Equal("req-2", second.Output!.Value.ToElement().GetProperty("rid").GetString());
        Assert.Equal("agent-test", second.Output!.Value.ToElement().GetProperty("fn").GetString());
    }

    [Fact]
    public async Task Python_CrashFailsTheCall_ThenAFreshProcessServesTheNext()
    {
        await using var agent = await SandboxAgent.StartAsync(Python, SandboxAgent.Init("python", "lambda_function.lambda_handler"));
        Assert.Equal(1, (await agent.ExecAsync("{}")).Output!.Value.ToElement().GetProperty("calls").GetInt32());
        var crashed = await agent.ExecAsync("""{"crash":true}""");
        Assert.Equal("error", crashed.Status);
        Assert.Equal("HandlerCrashed", crashed.Error!.Code);
        Assert.Contains("exited with code 3", crashed.Error.Message);
        var next = await agent.ExecAsync("{}");
        Assert.Equal("success", next.Status);
        Assert.Equal(1, next.Output!.Value.ToElement().GetProperty("calls").GetInt32()); // loaded again
    }

    [Fact]
    public async Task Python_TimeoutKillsTheStuckProcess_AndTheNextCallIsServedPromptly()
    {
        await using var agent = await SandboxAgent.StartAsync(Python, SandboxAgent.Init("python", "lambda_function.lambda_handler"));
        var slow = await agent.ExecAsync("""{"sleep":30}""", timeoutMs: 500);
        Assert.Equal("timeout", slow.Status);
        Assert.Equal("Timeout", slow.Error!.Code);
        var watch = Stopwatch.StartNew();
        var next = await agent.ExecAsync("{}", timeoutMs: 10_000);
        Assert.Equal("success", next.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Python_AnswerOverMaxMessageBytes_FailsThatCallOnly()
    {
        await using var agent = await SandboxAgent.StartAsync(Python,
            SandboxAgent.Init("python", "lambda_function.lambda_handler", maxMessageBytes: 64 * 1024));
        var big = await agent.ExecAsync("""{"big":200000}""");
        Assert.Equal("error", big.Status);
        Assert.Equal("OutputTooLarge", big.Error!.Code);
        var next = await agent.ExecAsync("{}");
        Assert.True(next.Status == "success", $"{next.Status}: {next.Error?.Code} {next.Error?.Message}");
    }

    [Fact]
    public async Task Python_ImportError_IsTheInitAnswer_AndTheAgentStaysUp()
    {
        var files = new Dictionary<string, byte[]> { ["lambda_function.py"] = Encoding.UTF8.GetBytes("import no_such_module_here\n") };
        await using var agent = await SandboxAgent.StartAsync(files, SandboxAgent.Init("python", "lambda_function.lambda_handler"));
        Assert.Equal("error", agent.InitResponse.Status);
        Assert.Equal("HandlerLoadFailed", agent.InitResponse.Error!.Code);
        Assert.Contains("No module named 'no_such_module_here'", agent.InitResponse.Error.Message);
        Assert.Equal("success", (await agent.Client.PingAsync(TimeSpan.FromSeconds(5), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Node_ServesConcurrentCalls_UpToInstanceConcurrency()
    {
        var files = new Dictionary<string, byte[]>
        {
            ["index.js"] = Encoding.UTF8.GetBytes("""
                let inFlight = 0, most = 0;
                exports.handler = async (event, context) => {
                  inFlight++; most = Math.max(most, inFlight);
                  await new Promise((resolve) => setTimeout(resolve, 700));
                  inFlight--;
                  return { most, rid: context.awsRequestId };
                };
                """),
        };
        await using var agent = await SandboxAgent.StartAsync(files, SandboxAgent.Init("node", "index.handler", instanceConcurrency: 4));
        Assert.Equal("success", agent.InitResponse.Status);
        var watch = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => agent.ExecAsync("{}", requestId: $"c{i}")));
        Assert.All(results, r => Assert.Equal("success", r.Status));
        Assert.Equal(["c0", "c1", "c2", "c3"], results.Select(r => r.Output!.Value.ToElement().GetProperty("rid").GetString()!));
        Assert.True(results.Max(r => r.Output!.Value.ToElement().GetProperty("most").GetInt32()) >= 2, "calls should overlap");
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(2500), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task ProcessMode_NothingTheHandlerLeftBehindOutlivesTheCall()
    {
        var marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100, 999)}";
        var files = new Dictionary<string, byte[]>
        {
            ["main.py"] = Encoding.UTF8.GetBytes($"""
                import subprocess
                subprocess.Popen(["/usr/bin/sleep", "{marker}"], start_new_session=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                print('"done"')
                """),
        };
        await using var agent = await SandboxAgent.StartAsync(files, SandboxAgent.Init("python", "main.py", mode: "process"));
        for (var call = 0; call < 2; call++) // the worker is reused: the second call must work as the first did
        {
            var resp = await agent.ExecAsync("{}");
            Assert.Equal("success", resp.Status);
            Assert.Equal("done", resp.Output!.Value.ToElement().GetString());
            Assert.Empty(HostProcesses.WithArgument(marker));
        }
    }
}
