using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Drivers;
using Tern.Drivers.Sandbox;
using Tern.Json;

namespace Tern.Bench;

/// <summary>The handler floor: N sandboxed workers of a persistent function started with the sandbox driver and driven
/// straight over their agent sockets from this process, one call in flight per worker (as the daemon's defaults do),
/// with no HTTP and no control plane.</summary>
public sealed class DirectWorkers : IAsyncDisposable
{
    private readonly List<(IWorker Worker, AgentClient Agent)> _workers = [];

    public static async Task<DirectWorkers> StartAsync(string stateDir, int count, string runtime, string codeDir, string handler)
    {
        var code = new LocalCodeSource();
        var driver = new BubblewrapDriver(Options.Create(new SandboxOptions { StateDir = Path.Combine(stateDir, "w-direct") }),
            NullLogger<BubblewrapDriver>.Instance, codeSource: code);
        var set = new DirectWorkers();
        var codeRef = await WasmPrecompile.AddAsync(code, stateDir, runtime, codeDir, handler);
        for (var i = 0; i < count; i++)
        {
            var spec = new WorkerSpec { WorkerId = $"direct{Environment.ProcessId}-{Guid.NewGuid():N}"[..30], FunctionName = "echo", Code = codeRef, Limits = new WorkerLimits(MemoryMb: 128) };
            var worker = await driver.StartWorkerAsync(spec, CancellationToken.None);
            var agent = new AgentClient(worker.Stream);
            set._workers.Add((worker, agent));
            var init = await agent.InitAsync(new InitMessage
            {
                Runtime = runtime, Handler = handler, Mode = "persistent", FunctionName = "echo", MemoryMb = 128, TimeoutMs = 30_000,
            }, TimeSpan.FromSeconds(30), CancellationToken.None);
            if (init.Status != "success") throw new InvalidOperationException($"direct worker Init failed: {init.Error?.Message}");
        }
        return set;
    }

    public IReadOnlyList<string> WorkerIds => [.. _workers.Select(w => w.Worker.Id)];

    /// <summary>Each worker gets one call at a time from its own loop, for <paramref name="duration"/>.</summary>
    public async Task<WarmRun> RunAsync(string scenario, TimeSpan duration)
    {
        var input = RawJson.Parse(WarmPathBench.Event);
        var latencies = new List<double>[_workers.Count];
        var errors = 0;
        var next = 0L;
        var before = ProcessCpu.Take();
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(_workers.Select(async (w, i) =>
        {
            var mine = latencies[i] = new List<double>(1 << 16);
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var t0 = Stopwatch.GetTimestamp();
                var resp = await w.Agent.ExecAsync(new ExecMessage { RequestId = "b" + Interlocked.Increment(ref next), Input = input, TimeoutMs = 30_000 },
                    TimeSpan.FromSeconds(30), CancellationToken.None);
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (resp.Status != "success") Interlocked.Increment(ref errors);
            }
        }));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var after = ProcessCpu.Take();
        var stats = LatencyStats.From(latencies.SelectMany(l => l).ToList(), elapsed, errors);
        return new WarmRun(scenario, _workers.Count, stats, ProcessCpu.PerCallDirect(before, after, stats.Count));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (worker, agent) in _workers)
        {
            await agent.DisposeAsync();
            await worker.DisposeAsync();
        }
    }
}
