using System.Collections.Concurrent;
using System.Diagnostics;
using Tern.Testing;

namespace Tern.Agent.Tests.Transport;

/// <summary>The real NativeAOT agent (artifacts/agent/tern-agent, published by the Drivers build) run as a plain host
/// process, no sandbox, with the given TERN_* settings; its stderr is kept line by line.</summary>
public sealed class AgentProcess : IAsyncDisposable
{
    public static string BinaryPath { get; } = Path.Combine(RepoPaths.Root, "artifacts", "agent", "tern-agent");

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();

    private AgentProcess(Process process) => _process = process;

    public static AgentProcess Start(string transport) => Start(new Dictionary<string, string> { ["TERN_AGENT_TRANSPORT"] = transport });

    public static AgentProcess Start(IReadOnlyDictionary<string, string> settings)
    {
        var psi = new ProcessStartInfo(BinaryPath) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("TERN_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(name);
        // The reaper only arms itself inside a bubblewrap PID namespace; say so anyway: on the test host, "kill every
        // other process" must never happen.
        psi.Environment["TERN_AGENT_REAP"] = "0";
        foreach (var (name, value) in settings) psi.Environment[name] = value;
        var process = new Process { StartInfo = psi };
        var agent = new AgentProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) agent._stderr.Enqueue(e.Data);
        };
        process.Start();
        process.BeginErrorReadLine();
        return agent;
    }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public IReadOnlyList<string> StderrLines => [.. _stderr];
    public string Stderr => string.Join('\n', _stderr);

    /// <summary>Completes when the process has exited and its stderr has been read to the end.</summary>
    public Task Exited => _process.WaitForExitAsync();

    public async Task<int> WaitForExitAsync(TimeSpan patience)
    {
        await Exited.WaitAsync(patience);
        return _process.ExitCode;
    }

    /// <summary>The first stderr line starting with <paramref name="prefix"/>, once the agent has written it.</summary>
    public async Task<string> WaitForStderrAsync(string prefix, TimeSpan patience)
    {
        var deadline = Environment.TickCount64 + (long)patience.TotalMilliseconds;
        while (true)
        {
            var line = _stderr.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null) return line;
            if (_process.HasExited) throw new InvalidOperationException($"the agent exited with code {_process.ExitCode}: {Stderr}");
            if (Environment.TickCount64 > deadline) throw new TimeoutException($"the agent wrote no '{prefix}' line: {Stderr}");
            await Task.Delay(10);
        }
    }

    public void Kill()
    {
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Exited.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        _process.Dispose();
    }
}
