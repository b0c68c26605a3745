using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Core.Code;
using Tern.Drivers;
using Tern.Drivers.Gvisor;
using Tern.Drivers.Sandbox;
using Tern.Json;

namespace Tern.Bench;

/// <summary>bench/isolation.sh: start and warm-call times per isolation driver (sandbox = bubblewrap, gvisor = runsc),
/// next to a bare python3 spawn, all in one run, on a persistent Python echo. Driver level (a worker driven straight
/// over its agent socket, as DirectWorkers) and daemon level (sequential calls over one HTTP connection). Writes its
/// own section of docs/benchmarks.md (between markers that bench/run.sh keeps).</summary>
public static class IsolationBench
{
    private const string EchoPy = "def handler(event, context):\n    return event\n";

    /// <summary>What one guest system call and one wake-up of another guest process cost: 5000 getppid() calls, then
    /// 2000 one-byte round trips between two processes over pipes. A warm call is a few of each.</summary>
    private const string FloorPy = """
        import os, time
        t = time.perf_counter()
        for _ in range(5000): os.getppid()
        syscall = (time.perf_counter() - t) / 5000 * 1e6
        r1, w1 = os.pipe(); r2, w2 = os.pipe()
        if os.fork() == 0:
            for _ in range(2000): os.read(r1, 1); os.write(w2, b'x')
            os._exit(0)
        t = time.perf_counter()
        for _ in range(2000): os.write(w1, b'x'); os.read(r2, 1)
        print(f"{syscall:.1f} {(time.perf_counter() - t) / 2000 * 1e6:.1f}")
        """;

    /// <summary>The control for the daemon-level gap: a sandbox echo that spins for as long as a gVisor call takes beyond
    /// the sandbox's, relayed by its agent as gVisor's calls are, so its call is as slow as gVisor's on the same Tern path.</summary>
    private static string SpinPy(double ms) => $"import time\ndef handler(event, context):\n    end = time.perf_counter() + {(ms / 1000).ToString("0.000000", CultureInfo.InvariantCulture)}\n" +
        "    while time.perf_counter() < end: pass\n    return event\n";

    private sealed record ControlFigures(double SpinMs, LatencyStats Warm, LatencyStats Api, double WorkerCpuMs);

    private sealed record DriverFigures(string Name, string Platform, LatencyStats Cold, LatencyStats Template, LatencyStats Warm, LatencyStats Api, LatencyStats WarmTwoVcpus,
        (double CpuMs, double Switches) PerCall);

    /// <param name="imagesDir">Where `tern images build python` put the microvm guest image.</param>
    /// <param name="skipMicrovm">Leave out the microvm rows (minutes of TCG boots) and keep that part of the last run's section.</param>
    public static async Task<int> RunAsync(string ternDll, string outFile, string command, bool quick, string imagesDir, bool skipMicrovm)
    {
        var iterations = quick ? 3 : 10;
        var warmFor = TimeSpan.FromSeconds(quick ? 2 : 6);
        var stateDir = Path.Combine(Path.GetTempPath(), "tern-bench-iso-" + Environment.ProcessId);
        var codeDir = Path.Combine(stateDir, "py-echo");
        Directory.CreateDirectory(codeDir);
        await File.WriteAllTextAsync(Path.Combine(codeDir, "echo.py"), EchoPy);
        var code = new LocalCodeSource();
        // gVisor on the platform the daemon picks by default (auto: systrap with a runsc that has it) and on ptrace, the
        // only one bookworm's runsc has, with the same runsc in the same run.
        GvisorDriver Gvisor(string platform, string dir) => new(Options.Create(new GvisorOptions { StateDir = Path.Combine(stateDir, dir), Platform = platform }),
            Options.Create(new SandboxOptions()), NullLogger<GvisorDriver>.Instance, codeSource: code);
        var gvisorAuto = Gvisor("auto", "g");
        if (gvisorAuto.Problem() is { } gvisorProblem) throw new InvalidOperationException($"gvisor: {gvisorProblem}");
        List<(IIsolationDriver Driver, string Platform)> drivers =
        [
            (new BubblewrapDriver(Options.Create(new SandboxOptions { StateDir = Path.Combine(stateDir, "w") }), NullLogger<BubblewrapDriver>.Instance, codeSource: code), ""),
            (gvisorAuto, gvisorAuto.Platform!),
        ];
        if (gvisorAuto.Platform != "ptrace") drivers.Add((Gvisor("ptrace", "gp"), "ptrace"));
        var runsc = new GvisorOptions().ResolvedRunscPath();

        Console.WriteLine("system call and wake-up floors");
        var hostFloor = await FloorAsync("/usr/bin/python3", []);
        var gvisorFloors = new List<(string Platform, string Floor)>();
        foreach (var platform in drivers.Skip(1).Select(d => d.Platform))
            gvisorFloors.Add((platform, await FloorAsync(runsc,
                ["--root", Path.Combine(stateDir, "runsc-do"), "--platform=" + platform, "--network=none", "do", "/usr/bin/python3"])));
        Console.WriteLine("bare python3 spawn");
        var bare = await BarePythonAsync(codeDir, iterations * 2);
        var figures = new List<DriverFigures>();
        foreach (var (driver, platform) in drivers)
        {
            if (driver.Problem() is { } problem) throw new InvalidOperationException($"{driver.Name}: {problem}");
            Console.WriteLine($"{driver.Name}: cold starts");
            var cold = await ColdAsync(driver, code.Add(codeDir), iterations, fromTemplate: false);
            Console.WriteLine($"{driver.Name}: cold starts from a spare");
            var template = await ColdAsync(driver, code.Add(codeDir), iterations, fromTemplate: true);
            Console.WriteLine($"{driver.Name}: warm calls over the agent socket");
            var (warm, perCall) = await WarmDirectAsync(driver, code.Add(codeDir), warmFor);
            // gVisor's CPU quota covers its own kernel too: is a 1-vCPU worker throttled on the warm path?
            var (warmTwoVcpus, _) = await WarmDirectAsync(driver, code.Add(codeDir), warmFor, vcpus: 2);
            Console.WriteLine($"{driver.Name} {platform}: warm calls through the daemon");
            var api = await WarmApiAsync(ternDll, driver.Name, EchoPy, warmFor,
                platform.Length > 0 ? new Dictionary<string, string> { ["TERN_GVISOR_PLATFORM"] = platform } : null);
            figures.Add(new DriverFigures(driver.Name, platform, cold, template, warm, api, warmTwoVcpus, perCall));
        }
        Console.WriteLine("control: a sandbox call as slow as gVisor's, at the driver and through the daemon");
        var spinMs = Math.Max(0, figures[1].Warm.P50Ms - figures[0].Warm.P50Ms);
        var spinDir = Path.Combine(stateDir, "py-spin");
        Directory.CreateDirectory(spinDir);
        await File.WriteAllTextAsync(Path.Combine(spinDir, "echo.py"), SpinPy(spinMs));
        var (spinWarm, spinPerCall) = await WarmDirectAsync(drivers[0].Driver, code.Add(spinDir), warmFor);
        // gVisor workers cannot hand their handler's pipes to the daemon (no shared kernel), so the agent relays every call:
        // the control does the same (handlers.handoff off) to leave only the call's pace different.
        var spinApi = await WarmApiAsync(ternDll, drivers[0].Driver.Name, SpinPy(spinMs), warmFor,
            new Dictionary<string, string> { ["TERN_HANDLERS_HANDOFF"] = "false" });
        var control = new ControlFigures(spinMs, spinWarm, spinApi, spinPerCall.CpuMs);
        foreach (var (driver, _) in drivers) (driver as IDisposable)?.Dispose();
        var existing = File.Exists(outFile) ? await File.ReadAllTextAsync(outFile) : "# Benchmarks\n";
        var microvm = skipMicrovm
            ? KeptMicrovmPart(existing)
            : MicrovmBench.Markdown(await MicrovmBench.RunAsync(imagesDir, stateDir, code, codeDir, quick ? 2 : 5, warmFor), figures[0].Warm);
        try { Directory.Delete(stateDir, recursive: true); } catch (IOException) { }

        var section = Markdown(command, bare, figures, control, hostFloor, gvisorFloors, microvm);
        await File.WriteAllTextAsync(outFile, Section.Put(existing, section));
        Console.WriteLine(section);
        return 0;
    }

    public static readonly MarkdownSection Section = new("isolation-bench");

    private static string RunscVersion(string runsc)
    {
        using var p = Process.Start(new ProcessStartInfo(runsc, ["--version"]) { RedirectStandardOutput = true })!;
        var first = p.StandardOutput.ReadToEnd().Split('\n')[0].Trim();
        p.WaitForExit();
        return first;
    }

    private static async Task<string> FloorAsync(string program, string[] prefix)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in prefix.Concat(["-c", FloorPy])) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        _ = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var parts = output.Trim().Split(' ');
        return parts.Length == 2 ? $"{parts[0]} µs per system call, {parts[1]} µs per wake-up round trip" : $"(failed: exit {p.ExitCode})";
    }

    private static async Task<LatencyStats> BarePythonAsync(string codeDir, int iterations)
    {
        var samples = new List<double>();
        for (var i = 0; i < iterations + 1; i++)
        {
            var psi = new ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = codeDir, RedirectStandardOutput = true };
            foreach (var a in new[] { "-c", "import json, echo; print(json.dumps(echo.handler({'name': 'bench'}, None)))" }) psi.ArgumentList.Add(a);
            var t0 = Stopwatch.GetTimestamp();
            using var p = Process.Start(psi)!;
            await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            if (i > 0) samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return LatencyStats.From(samples, TimeSpan.FromSeconds(1));
    }

    /// <summary>A new worker, Init of the persistent echo and the first call answered; from a spare, only the spare's
    /// code assignment, Init and the first call are timed (the daemon starts spares ahead of time).</summary>
    private static async Task<LatencyStats> ColdAsync(IIsolationDriver driver, CodeRef code, int iterations, bool fromTemplate)
    {
        var samples = new List<double>();
        for (var i = 0; i < iterations + 1; i++)
        {
            var spec = new WorkerSpec { WorkerId = "iso" + Guid.NewGuid().ToString("N")[..12], FunctionName = "bench", Code = fromTemplate ? null : code, Limits = new WorkerLimits(MemoryMb: 256) };
            var spare = fromTemplate ? await driver.StartWorkerAsync(spec, CancellationToken.None) : null;
            if (spare is not null) await Task.Delay(fromTemplate && driver.Name == GvisorDriver.DriverName ? 1500 : 300); // let its zygote settle
            var t0 = Stopwatch.GetTimestamp();
            if (spare is not null) await spare.AssignAsync(code, new WorkerLimits(MemoryMb: 256), CancellationToken.None);
            await using var worker = spare ?? await driver.StartWorkerAsync(spec, CancellationToken.None);
            await using var agent = new AgentClient(worker.Stream);
            await InitAsync(agent);
            var resp = await agent.ExecAsync(new ExecMessage { RequestId = "1", Input = RawJson.Parse(WarmPathBench.Event), TimeoutMs = 30_000 }, TimeSpan.FromSeconds(30), CancellationToken.None);
            if (resp.Status != "success") throw new InvalidOperationException($"{driver.Name} cold call failed: {resp.Error?.Message}");
            if (i > 0) samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return LatencyStats.From(samples, TimeSpan.FromSeconds(1));
    }

    /// <returns>The latencies, and the CPU time and host context switches of the worker's threads per call.</returns>
    private static async Task<(LatencyStats, (double CpuMs, double Switches))> WarmDirectAsync(IIsolationDriver driver, CodeRef code, TimeSpan duration, int vcpus = 1)
    {
        var spec = new WorkerSpec { WorkerId = "isow" + Guid.NewGuid().ToString("N")[..12], FunctionName = "bench", Code = code, Limits = new WorkerLimits(MemoryMb: 256, Vcpus: vcpus) };
        await using var worker = await driver.StartWorkerAsync(spec, CancellationToken.None);
        await using var agent = new AgentClient(worker.Stream);
        await InitAsync(agent);
        var input = RawJson.Parse(WarmPathBench.Event);
        await Loop(TimeSpan.FromSeconds(1)); // warm-up
        var parent = driver switch { GvisorDriver g => g.CgroupParent, BubblewrapDriver b => b.CgroupParent, _ => null }
            ?? throw new InvalidOperationException($"{driver.Name}: no cgroup parent");
        var cgroup = WorkerThreads.CgroupDir(parent, spec.WorkerId);
        var before = WorkerThreads.Take(cgroup);
        var stats = await Loop(duration);
        var after = WorkerThreads.Take(cgroup);
        var calls = stats.Count;
        return (stats, ((after.CpuMs - before.CpuMs) / calls, (double)(after.Switches - before.Switches) / calls));

        async Task<LatencyStats> Loop(TimeSpan length)
        {
            var samples = new List<double>(1 << 16);
            var started = Stopwatch.GetTimestamp();
            var errors = 0;
            while (Stopwatch.GetElapsedTime(started) < length)
            {
                var t0 = Stopwatch.GetTimestamp();
                var resp = await agent.ExecAsync(new ExecMessage { RequestId = "w", Input = input, TimeoutMs = 30_000 }, TimeSpan.FromSeconds(30), CancellationToken.None);
                samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (resp.Status != "success") errors++;
            }
            return LatencyStats.From(samples, Stopwatch.GetElapsedTime(started), errors);
        }
    }

    /// <summary>Sequential warm calls of the persistent echo through a daemon, over one keep-alive connection.</summary>
    private static async Task<LatencyStats> WarmApiAsync(string ternDll, string isolation, string handlerCode, TimeSpan duration, IReadOnlyDictionary<string, string>? environment)
    {
        await using var daemon = await DaemonProcess.StartAsync(ternDll, environment);
        await daemon.CreateAsync(new { name = "echo", runtime = "python", mode = "persistent", handler = "echo.handler", codeFileName = "echo.py", code = DaemonProcess.Base64(handlerCode), isolation });
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(WarmPathBench.Event));
        async Task<LatencyStats> Loop(TimeSpan length)
        {
            var samples = new List<double>(1 << 14);
            var errors = 0;
            var started = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(started) < length)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var response = await daemon.Client.PostAsync("/v1/functions/echo:invoke", content);
                await response.Content.ReadAsByteArrayAsync();
                samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (!response.IsSuccessStatusCode) errors++;
            }
            return LatencyStats.From(samples, Stopwatch.GetElapsedTime(started), errors);
        }
        await Loop(TimeSpan.FromSeconds(5)); // cold start, the spares it sets off, and the daemon's JIT tiering
        return await Loop(duration);
    }

    private static async Task InitAsync(AgentClient agent)
    {
        var init = await agent.InitAsync(new InitMessage
        {
            Runtime = "python", Handler = "echo.handler", Mode = "persistent", FunctionName = "bench", MemoryMb = 256, TimeoutMs = 30_000,
        }, TimeSpan.FromSeconds(30), CancellationToken.None);
        if (init.Status != "success") throw new InvalidOperationException($"Init failed: {init.Error?.Message}");
    }

    /// <summary>The microvm part ("### microvm" to the end) of the last run's section, for a run that skipped it.</summary>
    private static string KeptMicrovmPart(string file)
    {
        var last = Section.Find(file) ?? "";
        var start = last.IndexOf("\n### microvm", StringComparison.Ordinal);
        if (start < 0) return "\n(microvm rows skipped with --skip-microvm; no earlier run to keep)\n";
        var part = last[start..last.LastIndexOf(Section.End, StringComparison.Ordinal)];
        if (part.Contains("(kept from ", StringComparison.Ordinal)) return part;
        // Say which run the figures are from: the header that named it is replaced.
        var when = System.Text.RegularExpressions.Regex.Match(last, @" on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)").Groups[1].Value;
        var headingEnd = part.IndexOf('\n', 1);
        return part[..headingEnd] + $"\n\n(kept from the run of {when}: this run used --skip-microvm)" + part[headingEnd..];
    }

    private static string Markdown(string command, LatencyStats bare, IReadOnlyList<DriverFigures> figures, ControlFigures control, string hostFloor,
        IReadOnlyList<(string Platform, string Floor)> gvisorFloors, string microvm)
    {
        var s = new StringBuilder();
        string F(double ms) => ms.ToString(ms < 10 ? "0.00" : "0", CultureInfo.InvariantCulture);
        s.AppendLine(Section.Begin);
        s.AppendLine("## Isolation drivers: sandbox (bubblewrap), gvisor (runsc) and microvm (QEMU)");
        s.AppendLine();
        s.AppendLine($"`{command}` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end. " +
            "A persistent Python echo (`def handler(e, c): return e`); milliseconds, p50 (p99). Cold start: a new worker, Init and the first call; " +
            "from a spare: assigning the code to a pre-started worker, Init and the first call; warm call, driver level: one worker driven " +
            "sequentially over its agent socket; warm call, daemon level: sequential `:invoke` calls over one HTTP connection; " +
            "worker CPU and host context switches per warm call: every thread in the worker's cgroup (/proc/TID/schedstat and status) over the driver-level run.");
        s.AppendLine();
        s.AppendLine($"Bare `/usr/bin/python3` spawn running the same handler once: {F(bare.P50Ms)} ({F(bare.P99Ms)}).");
        s.AppendLine();
        var runsc = new GvisorOptions().ResolvedRunscPath();
        s.AppendLine($"gVisor: `{runsc}` ({RunscVersion(runsc)}); the first gvisor row is the daemon's default platform (gvisor.platform auto), " +
            "the other the same runsc on ptrace.");
        s.AppendLine();
        s.AppendLine($"Floors (a Python loop of getppid(), then a pipe ping-pong between two processes): on the host {hostFloor}; " +
            string.Join("; ", gvisorFloors.Select(g => $"in gVisor (`runsc do`, {g.Platform} platform) {g.Floor}")) + ".");
        s.AppendLine();
        s.AppendLine("| isolation | platform | cold start | cold start from a spare | warm call, driver level | same, 2 vCPUs | warm call, daemon level | worker CPU / host context switches per warm call |");
        s.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var f in figures)
            s.AppendLine($"| {f.Name} | {(f.Platform.Length > 0 ? f.Platform : "-")} | {F(f.Cold.P50Ms)} ({F(f.Cold.P99Ms)}) | {F(f.Template.P50Ms)} ({F(f.Template.P99Ms)}) | " +
                $"{F(f.Warm.P50Ms)} ({F(f.Warm.P99Ms)}) | {F(f.WarmTwoVcpus.P50Ms)} ({F(f.WarmTwoVcpus.P99Ms)}) | {F(f.Api.P50Ms)} ({F(f.Api.P99Ms)}) | " +
                $"{f.PerCall.CpuMs.ToString("0.00", CultureInfo.InvariantCulture)} ms / {f.PerCall.Switches:0.0} |");
        var a = figures[0];
        s.AppendLine();
        foreach (var b in figures.Skip(1))
            s.AppendLine($"{b.Name} ({b.Platform}) / {a.Name}: cold start {b.Cold.P50Ms / a.Cold.P50Ms:0.0}x, from a spare {b.Template.P50Ms / a.Template.P50Ms:0.0}x, " +
                $"warm call {b.Warm.P50Ms / a.Warm.P50Ms:0.0}x at the driver and {b.Api.P50Ms / a.Api.P50Ms:0.0}x through the daemon (target: 2x).  ");
        s.AppendLine();
        // What the daemon adds to a call (daemon level minus driver level) for the echo, each gVisor platform, and a sandbox
        // call slowed to gVisor's pace by its handler: if the control's gap matches gVisor's, the gap is the slower call's
        // (the daemon's threads sleeping longer and paying wake-ups), not something gVisor-specific in the daemon.
        string Gap(LatencyStats driverLevel, LatencyStats daemonLevel) => F(daemonLevel.P50Ms - driverLevel.P50Ms);
        s.AppendLine($"Control: the sandbox with a handler that spins {F(control.SpinMs)} ms (gVisor's extra time at the driver) and the agent relaying " +
            "each call as it does in gVisor (handlers.handoff off in its daemon), so its call is " +
            $"as slow as gVisor's: {F(control.Warm.P50Ms)} ms at the driver ({F(control.WorkerCpuMs)} ms worker CPU), {F(control.Api.P50Ms)} ms through the daemon.  ");
        s.AppendLine("What the daemon adds to a warm call (daemon-level p50 minus driver-level p50): " +
            string.Join(", ", figures.Select(f => $"{f.Name}{(f.Platform.Length > 0 ? " " + f.Platform : "")} {Gap(f.Warm, f.Api)} ms")) +
            $", the spinning sandbox control {Gap(control.Warm, control.Api)} ms.");
        s.AppendLine();
        s.AppendLine("Where a gVisor warm call goes, and why the rest is the platform's: docs/gvisor.md, \"Trade-offs\".");
        s.Append(microvm);
        s.Append(Section.End);
        return s.ToString();
    }
}
