using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Core.Code;
using Tern.Drivers;
using Tern.Drivers.Microvm;
using Tern.Json;

namespace Tern.Bench;

/// <summary>The microvm rows of bench/isolation.sh: cold boot, restore from the snapshot the first boot saved, and warm
/// calls, on the same persistent Python echo, driven straight over the VM's agent channel. Needs the python guest image
/// (`tern images build python`, which isolation.sh runs) in <paramref name="imagesDir"/>.</summary>
internal static class MicrovmBench
{
    internal sealed record Figures(string Accelerator, LatencyStats Boot, LatencyStats BootedCall, LatencyStats Restore,
        LatencyStats RestoredCall, LatencyStats Warm, long SnapshotBytes);

    public static async Task<Figures> RunAsync(string imagesDir, string stateDir, LocalCodeSource code, string codeDir, int iterations, TimeSpan warmFor)
    {
        var driver = new MicrovmDriver(Options.Create(new MicrovmOptions { ImagesDir = imagesDir, StateDir = Path.Combine(stateDir, "m") }),
            NullLogger<MicrovmDriver>.Instance, codeSource: code);
        if (driver.Problem() is { } problem) throw new InvalidOperationException($"microvm: {problem}");
        var codeRef = code.Add(codeDir);
        List<double> boot = [], bootedCall = [], restore = [], restoredCall = [];
        for (var i = 0; i < iterations; i++)
        {
            Console.WriteLine($"microvm: cold boot {i + 1}/{iterations}");
            driver.Delete("bench");
            var (start, call) = await StartAndCallAsync(driver, codeRef, expectRestored: false);
            boot.Add(start);
            bootedCall.Add(call);
            Console.WriteLine($"microvm: restore {i + 1}/{iterations}");
            (start, call) = await StartAndCallAsync(driver, codeRef, expectRestored: true);
            restore.Add(start);
            restoredCall.Add(call);
        }
        var snapshotBytes = driver.List("bench").Sum(s => s.Bytes);
        Console.WriteLine("microvm: warm calls over the agent channel");
        var warm = await WarmAsync(driver, codeRef, warmFor);
        driver.Delete("bench");
        var window = TimeSpan.FromSeconds(1);
        return new Figures(driver.Accelerator ?? "?", LatencyStats.From(boot, window), LatencyStats.From(bootedCall, window),
            LatencyStats.From(restore, window), LatencyStats.From(restoredCall, window), warm, snapshotBytes);
    }

    /// <summary>Milliseconds until the agent answered (the driver's own figure), and until the first call was answered
    /// (start, Init of the persistent echo, the call).</summary>
    private static async Task<(double Start, double Call)> StartAndCallAsync(MicrovmDriver driver, CodeRef code, bool expectRestored)
    {
        var t0 = Stopwatch.GetTimestamp();
        await using var worker = (MicrovmWorker)await driver.StartWorkerAsync(Spec(code), CancellationToken.None);
        if (worker.Restored != expectRestored) throw new InvalidOperationException($"expected restored={expectRestored}");
        await using var agent = new AgentClient(worker.Stream);
        await InitAsync(agent);
        var resp = await agent.ExecAsync(new ExecMessage { RequestId = "1", Input = RawJson.Parse(WarmPathBench.Event), TimeoutMs = 60_000 }, TimeSpan.FromSeconds(60), CancellationToken.None);
        if (resp.Status != "success") throw new InvalidOperationException($"microvm call failed: {resp.Error?.Message}");
        return (worker.StartSeconds * 1000, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    }

    private static async Task<LatencyStats> WarmAsync(MicrovmDriver driver, CodeRef code, TimeSpan duration)
    {
        await using var worker = await driver.StartWorkerAsync(Spec(code), CancellationToken.None);
        await using var agent = new AgentClient(worker.Stream);
        await InitAsync(agent);
        var input = RawJson.Parse(WarmPathBench.Event);
        var samples = new List<double>(1 << 14);
        var errors = 0;
        var started = Stopwatch.GetTimestamp();
        var measureFrom = TimeSpan.FromSeconds(1); // warm-up
        while (Stopwatch.GetElapsedTime(started) < duration + measureFrom)
        {
            var t0 = Stopwatch.GetTimestamp();
            var resp = await agent.ExecAsync(new ExecMessage { RequestId = "w", Input = input, TimeoutMs = 30_000 }, TimeSpan.FromSeconds(30), CancellationToken.None);
            if (Stopwatch.GetElapsedTime(started) < measureFrom) continue;
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            if (resp.Status != "success") errors++;
        }
        return LatencyStats.From(samples, duration, errors);
    }

    private static WorkerSpec Spec(CodeRef code) => new()
    {
        WorkerId = "isomv" + Guid.NewGuid().ToString("N")[..12], FunctionName = "bench", Runtime = "python", Code = code,
        Limits = new WorkerLimits(MemoryMb: 256),
    };

    private static async Task InitAsync(AgentClient agent)
    {
        var init = await agent.InitAsync(new InitMessage
        {
            Runtime = "python", Handler = "echo.handler", Mode = "persistent", FunctionName = "bench", MemoryMb = 256, TimeoutMs = 60_000,
        }, TimeSpan.FromSeconds(60), CancellationToken.None);
        if (init.Status != "success") throw new InvalidOperationException($"Init failed: {init.Error?.Message}");
    }

    public static string Markdown(Figures f, LatencyStats sandboxWarm)
    {
        string F(double ms) => ms.ToString(ms < 10 ? "0.00" : "0", CultureInfo.InvariantCulture);
        var s = new StringBuilder();
        s.AppendLine();
        s.AppendLine($"### microvm (QEMU microvm, accelerator: {f.Accelerator})");
        s.AppendLine();
        s.AppendLine("Driver level, milliseconds, p50 (p99). Boot and restore: launch until the agent in the guest answers a Ping; " +
            "first call: that plus Init of the persistent echo and one call (after a cold boot also saving the snapshot, which the first boot of a code does before Init). Warm call: one VM driven sequentially over its virtio-serial channel.");
        s.AppendLine();
        s.AppendLine("| accelerator | cold boot | boot + first call | restore from snapshot | restore + first call | warm call | snapshot size |");
        s.AppendLine("|---|---|---|---|---|---|---|");
        s.AppendLine($"| {f.Accelerator} | {F(f.Boot.P50Ms)} ({F(f.Boot.P99Ms)}) | {F(f.BootedCall.P50Ms)} ({F(f.BootedCall.P99Ms)}) | " +
            $"{F(f.Restore.P50Ms)} ({F(f.Restore.P99Ms)}) | {F(f.RestoredCall.P50Ms)} ({F(f.RestoredCall.P99Ms)}) | {F(f.Warm.P50Ms)} ({F(f.Warm.P99Ms)}) | " +
            $"{f.SnapshotBytes / (1024 * 1024)} MB |");
        s.AppendLine();
        s.AppendLine($"Restore is {f.Boot.P50Ms / f.Restore.P50Ms:0.0}x faster than a cold boot (target: 5x under TCG); a warm call costs " +
            $"{f.Warm.P50Ms / sandboxWarm.P50Ms:0.0}x the sandbox's. Why, and what KVM hosts get: docs/microvm.md.");
        return s.ToString();
    }
}
