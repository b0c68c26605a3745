using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Drivers;
using Tern.Drivers.Sandbox;
using Tern.Json;

namespace Tern.Bench;

/// <summary>Cold start = a new sandbox worker, its agent's Init, and the first call answered; against a bare spawn
/// of the same interpreter on the same handler (no sandbox, no agent).</summary>
public sealed class ColdStartProbe(string examplesDir, string stateDir)
{
    private readonly LocalCodeSource _code = new();
    private BubblewrapDriver? _driverInstance;
    private BubblewrapDriver _driver => _driverInstance ??= new(Options.Create(new SandboxOptions { StateDir = Path.Combine(stateDir, "w-cold") }),
        NullLogger<BubblewrapDriver>.Instance, codeSource: _code);

    public record Runtime(string Name, string Dir, string Handler, string[] BareCommand, string Mode = "process");

    public Runtime[] Runtimes =>
    [
        new("python", "python", "main.py", ["/usr/bin/python3", "main.py"]),
        new("node", "node", "index.js", ["/usr/bin/node", "index.js"]),
        new("dotnet", "dotnet", "Hello.dll", ["/usr/bin/dotnet", "Hello.dll"]),
    ];

    /// <param name="fromTemplate">Time only what a cold start costs when a spare (template) worker is ready:
    /// giving it the code and limits, Init and the first call. The spare's own start is not timed.</param>
    public async Task<LatencyStats> SandboxedAsync(Runtime runtime, int iterations, bool fromTemplate = false)
    {
        var samples = new List<double>();
        var evt = RawJson.Parse("{\"name\":\"bench\"}");
        var code = await WasmPrecompile.AddAsync(_code, stateDir, runtime.Name, Path.IsPathRooted(runtime.Dir) ? runtime.Dir : Path.Combine(examplesDir, runtime.Dir), runtime.Handler);
        for (var i = 0; i < iterations + 1; i++)
        {
            var spec = new WorkerSpec
            {
                WorkerId = "cold" + Guid.NewGuid().ToString("N")[..12], FunctionName = "bench", Code = fromTemplate ? null : code, Limits = new WorkerLimits(MemoryMb: 256),
            };
            var spare = fromTemplate ? await _driver.StartWorkerAsync(spec, CancellationToken.None) : null;
            if (spare is not null) await Task.Delay(100); // the daemon keeps spares ready ahead of time: let this one settle
            var t0 = Stopwatch.GetTimestamp();
            if (spare is not null) await spare.AssignAsync(code, new WorkerLimits(MemoryMb: 256), CancellationToken.None);
            await using var worker = spare ?? await _driver.StartWorkerAsync(spec, CancellationToken.None);
            await using var agent = new AgentClient(worker.Stream);
            var init = await agent.InitAsync(new InitMessage
            {
                Runtime = runtime.Name, Handler = runtime.Handler, Mode = runtime.Mode, MemoryMb = 256, TimeoutMs = 30_000, FunctionName = "bench",
            }, TimeSpan.FromSeconds(30), CancellationToken.None);
            if (init.Status != "success") throw new InvalidOperationException($"{runtime.Name} Init failed: {init.Error?.Message}");
            var resp = await agent.ExecAsync(new ExecMessage { RequestId = "1", Input = evt, TimeoutMs = 30_000 }, TimeSpan.FromSeconds(30), CancellationToken.None);
            var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (resp.Status != "success") throw new InvalidOperationException($"{runtime.Name} cold call failed: {resp.Error?.Message}");
            if (i > 0) samples.Add(ms); // the first run warms the page cache
        }
        return LatencyStats.From(samples, TimeSpan.FromSeconds(1));
    }

    public async Task<LatencyStats> BareAsync(Runtime runtime, int iterations)
    {
        var eventFile = Path.Combine(stateDir, "event.json");
        Directory.CreateDirectory(stateDir);
        await File.WriteAllTextAsync(eventFile, "{\"name\":\"bench\"}");
        var samples = new List<double>();
        for (var i = 0; i < iterations + 1; i++)
        {
            var psi = new ProcessStartInfo(runtime.BareCommand[0])
            {
                WorkingDirectory = Path.Combine(examplesDir, runtime.Dir), RedirectStandardOutput = true,
            };
            foreach (var a in runtime.BareCommand.Skip(1)) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add(eventFile);
            var t0 = Stopwatch.GetTimestamp();
            using var p = Process.Start(psi)!;
            await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (i > 0) samples.Add(ms);
        }
        return LatencyStats.From(samples, TimeSpan.FromSeconds(1));
    }
}
