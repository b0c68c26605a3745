using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Bench;
using Tern.Drivers;
using Tern.Drivers.Sandbox;

// bench/run.sh builds everything and runs this: Tern.Bench --repo DIR --tern-dll PATH --out docs/benchmarks.md [--quick]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var arg = (string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
var repo = arg("--repo") ?? throw new ArgumentException("--repo is required");
var ternDll = arg("--tern-dll") ?? throw new ArgumentException("--tern-dll is required");
var outFile = arg("--out") ?? Path.Combine(repo, "docs", "benchmarks.md");
var quick = args.Contains("--quick");
var loadDuration = TimeSpan.FromSeconds(quick ? 2 : 6);
var coldIterations = quick ? 5 : 20;
var examples = Path.Combine(repo, "artifacts", "examples");
var stateDir = Path.Combine(Path.GetTempPath(), "tern-bench-workers-" + Environment.ProcessId);
var report = new Report(string.Join(' ', args));
var echoPy = "def handler(event, context):\n    return event\n";
const string Event = "{\"name\":\"bench\",\"n\":1}";
// The daemon's global admission limit (default 1,000 calls/s) would cap every HTTP figure here: measure without it.
var unlimited = new Dictionary<string, string> { ["TERN_RATE_LIMIT"] = "0" };

// 1. Cold starts, first, while nothing else runs.
var probe = new ColdStartProbe(examples, stateDir);
foreach (var runtime in probe.Runtimes)
{
    Console.WriteLine($"cold start: {runtime.Name}");
    var bare = await probe.BareAsync(runtime, coldIterations);
    var sandboxed = await probe.SandboxedAsync(runtime, coldIterations);
    var fromTemplate = await probe.SandboxedAsync(runtime, coldIterations, fromTemplate: true);
    report.ColdStart(runtime.Name, bare, sandboxed, fromTemplate);
}
{
    // Persistent Python from a spare: the spare's agent has a Python zygote waiting, so Init only imports the module.
    var echoDir = Path.Combine(stateDir, "zygote-code");
    Directory.CreateDirectory(echoDir);
    await File.WriteAllTextAsync(Path.Combine(echoDir, "echo.py"), "def handler(event, context):\n    return event\n");
    var persistent = new ColdStartProbe.Runtime("python", echoDir, "echo.handler", [], "persistent");
    Console.WriteLine("cold start: persistent python from a spare (zygote)");
    report.ZygoteColdStart(await probe.SandboxedAsync(persistent, coldIterations, fromTemplate: true),
        await probe.SandboxedAsync(persistent, coldIterations));
}

// 2. Warm invoke through the HTTP API (a separate daemon process, wrk as the client).
await using (var daemon = await DaemonProcess.StartAsync(ternDll, unlimited))
{
    await daemon.CreateAsync(new
    {
        name = "echo", runtime = "python", mode = "persistent", handler = "echo.handler", codeFileName = "echo.py",
        code = DaemonProcess.Base64(echoPy), minReplicas = 1, maxReplicas = 1, instanceConcurrency = 64, concurrency = 256,
    });
    var lua = Path.Combine(stateDir, "post.lua");
    Directory.CreateDirectory(stateDir);
    await File.WriteAllTextAsync(lua, $"wrk.method = \"POST\"\nwrk.body = '{Event}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n");
    var url = new Uri(daemon.BaseAddress, "/v1/functions/echo:invoke");
    await WrkLoad.RunAsync(url, 8, TimeSpan.FromSeconds(2), lua); // warm-up: JIT, worker start
    foreach (var connections in new[] { 1, 8, 32 })
    {
        Console.WriteLine($"warm HTTP: {connections} connections");
        report.WarmHttp(connections, await WrkLoad.RunAsync(url, connections, loadDuration, lua));
    }

    // 3. The daemon's memory with 1,000 functions registered.
    report.DaemonRss("daemon after the warm runs (1 function)", daemon.RssMb());
    var small = DaemonProcess.Base64("print('\"hi\"')\n");
    for (var i = 0; i < 1000; i++)
        await daemon.CreateAsync(new { name = $"fn-{i:D4}", runtime = "python", code = small, codeFileName = "main.py" });
    GC.Collect();
    await Task.Delay(1000);
    report.DaemonRss("daemon with 1,000 functions registered", daemon.RssMb());
}

// 3b. Async: durable enqueue throughput and enqueue-to-finished latency, on a fresh daemon (latency first, while the
// daemon is quiet; the throughput run leaves a long backlog draining behind it).
await using (var daemon = await DaemonProcess.StartAsync(ternDll, unlimited))
{
    Directory.CreateDirectory(stateDir);
    Console.WriteLine("async: enqueue-to-finished latency");
    var (server, client) = await AsyncEnqueueBench.LatencyAsync(daemon, quick ? 20 : 50);
    var asyncDuration = TimeSpan.FromSeconds(quick ? 2 : 5);
    Console.WriteLine($"async: durable enqueue throughput, {AsyncEnqueueBench.ThroughputConnections} connections");
    var throughput = await AsyncEnqueueBench.ThroughputAsync(daemon, stateDir, asyncDuration);
    report.AsyncEnqueue(AsyncEnqueueBench.ThroughputConnections, asyncDuration, throughput, server, client);
}

// 4. Baseline: the same persistent Python echo worker driven directly over its socket.
var codeDir = Path.Combine(stateDir, "echo-code");
Directory.CreateDirectory(codeDir);
await File.WriteAllTextAsync(Path.Combine(codeDir, "echo.py"), echoPy);
var driver = new BubblewrapDriver(Options.Create(new SandboxOptions { StateDir = stateDir }), NullLogger<BubblewrapDriver>.Instance);
var spec = new WorkerSpec { WorkerId = "direct" + Environment.ProcessId, FunctionName = "echo", Code = new CodeMount(codeDir, null), MemoryMb = 256 };
await using (var worker = await driver.StartWorkerAsync(spec, CancellationToken.None))
await using (var agent = new AgentClient(worker.Stream))
{
    var init = await agent.InitAsync(new InitMessage
    {
        Runtime = "python", Handler = "echo.handler", Mode = "persistent", FunctionName = "echo", MemoryMb = 256,
        TimeoutMs = 30_000, InstanceConcurrency = 64,
    }, TimeSpan.FromSeconds(30), CancellationToken.None);
    if (init.Status != "success") throw new InvalidOperationException($"direct worker Init failed: {init.Error?.Message}");
    await DirectAgentLoad.RunAsync(agent, 8, TimeSpan.FromSeconds(1), Event);
    report.WorkerRss(Rss.OfCgroup(spec.WorkerId));
    foreach (var concurrency in new[] { 1, 8, 32 })
    {
        Console.WriteLine($"direct socket: {concurrency} in flight");
        report.Direct(concurrency, await DirectAgentLoad.RunAsync(agent, concurrency, loadDuration, Event));
    }
}

try { Directory.Delete(stateDir, recursive: true); } catch (IOException) { }
await File.WriteAllTextAsync(outFile, report.ToMarkdown());
Console.WriteLine($"wrote {outFile}");
