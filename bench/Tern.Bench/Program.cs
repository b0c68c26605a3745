using System.Globalization;
using Tern.Bench;

// bench/run.sh builds everything and runs this:
//   Tern.Bench --repo DIR --tern-dll PATH --bare-echo-dll PATH --go-echo PATH --out docs/benchmarks.md [--quick] [--wasm-only]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var arg = (string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
var repo = arg("--repo") ?? throw new ArgumentException("--repo is required");
var ternDll = arg("--tern-dll") ?? throw new ArgumentException("--tern-dll is required");
if (args.Contains("--soak"))
{
    // bench/soak.sh: Tern.Bench --soak --minutes N --repo DIR --tern-dll PATH --go-echo PATH
    var minutes = double.Parse(arg("--minutes") ?? "10", CultureInfo.InvariantCulture);
    return await Tern.Bench.Soak.SoakRun.RunAsync(ternDll, arg("--go-echo") ?? throw new ArgumentException("--go-echo is required"),
        TimeSpan.FromMinutes(minutes), Path.Combine(repo, "docs", "soak.csv"), Path.Combine(repo, "docs", "soak.md"),
        $"bench/soak.sh --minutes {minutes}");
}
if (args.Contains("--isolation"))
{
    // bench/isolation.sh: Tern.Bench --isolation --repo DIR --tern-dll PATH [--quick] [--skip-microvm]
    return await IsolationBench.RunAsync(ternDll, Path.Combine(repo, "docs", "benchmarks.md"),
        "bench/isolation.sh" + (args.Contains("--quick") ? " --quick" : "") + (args.Contains("--skip-microvm") ? " --skip-microvm" : ""),
        args.Contains("--quick"),
        Environment.GetEnvironmentVariable("TERN_BENCH_IMAGES_DIR") ?? Path.Combine(repo, "artifacts", "bench", "images"),
        args.Contains("--skip-microvm"));
}
if (args.Contains("--postgres"))
{
    // bench/postgres.sh: Tern.Bench --postgres --repo DIR --tern-dll PATH [--quick]
    return await PostgresBench.RunAsync(repo, ternDll, Path.Combine(repo, "docs", "benchmarks.md"),
        "bench/postgres.sh" + (args.Contains("--quick") ? " --quick" : ""), args.Contains("--quick"));
}
var bareEchoDll = arg("--bare-echo-dll") ?? throw new ArgumentException("--bare-echo-dll is required");
var goEcho = arg("--go-echo") ?? throw new ArgumentException("--go-echo is required");
var outFile = arg("--out") ?? Path.Combine(repo, "docs", "benchmarks.md");
var quick = args.Contains("--quick");
var measure = TimeSpan.FromSeconds(quick ? 3 : 8);
var warmUp = TimeSpan.FromSeconds(quick ? 4 : 20);
var coldIterations = quick ? 5 : 20;
var examples = Path.Combine(repo, "artifacts", "examples");
var stateDir = Path.Combine(Path.GetTempPath(), "tern-bench-workers-" + Environment.ProcessId);
Directory.CreateDirectory(stateDir);
var report = new Report(string.Join(' ', args));
var lua = WarmPathBench.LuaPost(stateDir);
const string EchoPy = "def handler(event, context):\n    return event\n";

// The two echo functions of the headline, registered as a new user would: runtime, code, mode and handler, nothing else.
var pyEchoDir = Path.Combine(stateDir, "py-echo");
Directory.CreateDirectory(pyEchoDir);
await File.WriteAllTextAsync(Path.Combine(pyEchoDir, "echo.py"), EchoPy);
var goEchoDir = Path.Combine(stateDir, "go-echo");
Directory.CreateDirectory(goEchoDir);
File.Copy(goEcho, Path.Combine(goEchoDir, "bootstrap"), overwrite: true);
var pyEcho = new { name = "py-echo", runtime = "python", mode = "persistent", handler = "echo.handler", codeFileName = "echo.py", code = DaemonProcess.Base64(EchoPy) };
var goEchoFunction = new
{
    name = "go-echo", runtime = "go", mode = "persistent", handler = "bootstrap", codeFileName = "bootstrap",
    code = Convert.ToBase64String(await File.ReadAllBytesAsync(goEcho)),
};
int[] connectionCounts = [1, 8, 32];

// The wasm runtime against the Node path it replaced (issue 12); `bench/run.sh --wasm-only` runs just this and
// replaces only its section of docs/benchmarks.md.
var wasmBench = new WasmBench(repo, examples, stateDir, coldIterations, warmUp / 2, measure);
var wasmCommand = "bench/run.sh " + string.Join(' ', args.Where(a => a is "--quick" or "--wasm-only"));
if (args.Contains("--wasm-only"))
{
    var (wasmPaths, goFloor) = await wasmBench.RunAsync();
    WasmBench.Splice(outFile, WasmBench.ToMarkdown(wasmPaths, goFloor, wasmCommand.TrimEnd()));
    Console.WriteLine($"wrote the wasm section of {outFile}");
    return 0;
}

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
    var persistent = new ColdStartProbe.Runtime("python", pyEchoDir, "echo.handler", [], "persistent");
    Console.WriteLine("cold start: persistent python from a spare (zygote)");
    report.ZygoteColdStart(await probe.SandboxedAsync(persistent, coldIterations, fromTemplate: true),
        await probe.SandboxedAsync(persistent, coldIterations));
}

var (wasmFigures, wasmGoFloor) = await wasmBench.RunAsync();

// 2. The HTTP floor: a bare ASP.NET Core echo, same load, same run.
await using (var bare = await BareEchoProcess.StartAsync(bareEchoDll))
{
    await WrkLoad.RunAsync(new Uri(bare.BaseAddress, "/echo"), 8, warmUp / 2, lua);
    foreach (var c in connectionCounts)
    {
        Console.WriteLine($"bare echo: {c} connections");
        report.Bare(await WarmPathBench.BareAsync(bare, c, measure, lua));
    }
}

// 3. The headline: warm sync calls through the API, function defaults, everything on (records, metrics, logs).
await using (var daemon = await DaemonProcess.StartAsync(ternDll))
{
    await daemon.CreateAsync(pyEcho);
    await daemon.CreateAsync(goEchoFunction);
    Console.WriteLine("warm-up (the daemon's JIT tiering)");
    await WarmPathBench.WarmUpAsync(daemon, ["py-echo", "go-echo"], warmUp, lua);
    foreach (var (scenario, function) in new[] { ("Python echo", "py-echo"), ("Go echo", "go-echo") })
        foreach (var c in connectionCounts)
        {
            Console.WriteLine($"warm API: {scenario}, {c} connections");
            report.Headline(await WarmPathBench.ApiAsync(daemon, scenario, function, c, measure, lua));
        }

    // Tuned variants, in their own table: many calls per worker.
    await daemon.CreateAsync(new { name = "go-ic64", goEchoFunction.runtime, goEchoFunction.mode, goEchoFunction.handler, goEchoFunction.codeFileName, goEchoFunction.code,
        instanceConcurrency = 64, concurrency = 256, maxReplicas = 1 });
    await daemon.CreateAsync(new { name = "py-ic64", pyEcho.runtime, pyEcho.mode, pyEcho.handler, pyEcho.codeFileName, pyEcho.code,
        instanceConcurrency = 64, concurrency = 256, maxReplicas = 1 });
    await WarmPathBench.WarmUpAsync(daemon, ["go-ic64", "py-ic64"], warmUp / 2, lua);
    Console.WriteLine("warm API: tuned variants");
    report.Variant(await WarmPathBench.ApiAsync(daemon, "Go echo, instanceConcurrency 64, one worker", "go-ic64", 32, measure, lua));
    report.Variant(await WarmPathBench.ApiAsync(daemon, "Python echo, instanceConcurrency 64, one worker", "py-ic64", 32, measure, lua));

    report.DaemonRss("daemon after the warm runs (4 functions)", daemon.RssMb());
    var small = DaemonProcess.Base64("print('\"hi\"')\n");
    for (var i = 0; i < 1000; i++)
        await daemon.CreateAsync(new { name = $"fn-{i:D4}", runtime = "python", code = small, codeFileName = "main.py" });
    await Task.Delay(1000);
    report.DaemonRss("daemon with 1,000 functions registered", daemon.RssMb());
}

// 3b. The same Go echo with traces and metrics exported over OTLP (to a stand-in collector).
await using (var sink = await OtlpSink.StartAsync())
await using (var daemon = await DaemonProcess.StartAsync(ternDll, new Dictionary<string, string>
{
    ["TERN_OTLP_ENDPOINT"] = sink.Endpoint.ToString(), ["OTEL_BSP_SCHEDULE_DELAY"] = "1000", ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
}))
{
    await daemon.CreateAsync(goEchoFunction);
    await WarmPathBench.WarmUpAsync(daemon, ["go-echo"], warmUp, lua);
    Console.WriteLine("warm API: Go echo with OTLP export");
    report.Variant(await WarmPathBench.ApiAsync(daemon, "Go echo, traces and metrics exported over OTLP", "go-echo", 32, measure, lua));
    report.OtlpExports(sink.Exports);
}

// 3c. The defaults' Go and Python echoes with the agent relaying every call (handlers.handoff=false): the handoff's
// effect, measured in the same run.
await using (var daemon = await DaemonProcess.StartAsync(ternDll, new Dictionary<string, string> { ["TERN_HANDLERS_HANDOFF"] = "false" }))
{
    await daemon.CreateAsync(goEchoFunction);
    await daemon.CreateAsync(pyEcho);
    await WarmPathBench.WarmUpAsync(daemon, ["go-echo", "py-echo"], warmUp, lua);
    Console.WriteLine("warm API: agent relay (handoff off)");
    report.Variant(await WarmPathBench.ApiAsync(daemon, "Go echo, agent relays every call (handlers.handoff=false)", "go-echo", 32, measure, lua));
    report.Variant(await WarmPathBench.ApiAsync(daemon, "Python echo, agent relays every call (handlers.handoff=false)", "py-echo", 32, measure, lua));
}

// 4. Async: durable enqueue throughput and enqueue-to-finished latency, on a fresh daemon.
await using (var daemon = await DaemonProcess.StartAsync(ternDll))
{
    Console.WriteLine("async: enqueue-to-finished latency");
    var (server, client) = await AsyncEnqueueBench.LatencyAsync(daemon, quick ? 20 : 50);
    var asyncDuration = TimeSpan.FromSeconds(quick ? 2 : 5);
    Console.WriteLine($"async: durable enqueue throughput, {AsyncEnqueueBench.ThroughputConnections} connections");
    var throughput = await AsyncEnqueueBench.ThroughputAsync(daemon, stateDir, asyncDuration);
    report.AsyncEnqueue(AsyncEnqueueBench.ThroughputConnections, asyncDuration, throughput, server, client);
}

// 5. The handler floor: the same workers driven straight over their sockets, as many as the API runs used.
foreach (var (scenario, runtime, dir, handler) in new[] { ("Python echo", "python", pyEchoDir, "echo.handler"), ("Go echo", "go", goEchoDir, "bootstrap") })
    foreach (var workers in new[] { 1, 4 })
    {
        Console.WriteLine($"direct socket: {scenario}, {workers} workers");
        await using var direct = await DirectWorkers.StartAsync(stateDir, workers, runtime, dir, handler);
        await direct.RunAsync(scenario, warmUp / 4);
        if (workers == 1 && runtime == "python") report.WorkerRss(Rss.OfCgroup(direct.WorkerIds[0]));
        report.Direct(await direct.RunAsync(scenario, measure));
    }

try { Directory.Delete(stateDir, recursive: true); } catch (IOException) { }
// The isolation drivers' section has its own command (bench/isolation.sh): kept as it was. So has the Postgres section (bench/postgres.sh).
var previous = File.Exists(outFile) ? await File.ReadAllTextAsync(outFile) : "";
var written = report.ToMarkdown();
foreach (var kept in new[] { IsolationBench.Section, PostgresBench.Section })
    if (kept.Find(previous) is { } block) written = kept.Put(written, block);
await File.WriteAllTextAsync(outFile, written);
WasmBench.Splice(outFile, WasmBench.ToMarkdown(wasmFigures, wasmGoFloor, wasmCommand.TrimEnd()));
Console.WriteLine($"wrote {outFile}");
return 0;
