using System.Diagnostics;
using System.Text.Json;
using Tern.Agent.Protocol;

namespace Tern.Bench;

/// <summary>The baseline: the same warm worker driven straight over its agent socket, with no HTTP and no control plane.</summary>
public static class DirectAgentLoad
{
    public static async Task<LatencyStats> RunAsync(AgentClient agent, int concurrency, TimeSpan duration, string eventJson)
    {
        using var doc = JsonDocument.Parse(eventJson);
        var input = doc.RootElement.Clone();
        var latencies = new List<double>[concurrency];
        var errors = 0;
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        var next = 0L;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async i =>
        {
            var mine = latencies[i] = new List<double>(1 << 16);
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var t0 = Stopwatch.GetTimestamp();
                var resp = await agent.ExecAsync(
                    new ExecMessage { RequestId = "b" + Interlocked.Increment(ref next), Input = input, TimeoutMs = 30_000 },
                    TimeSpan.FromSeconds(30), CancellationToken.None);
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (resp.Status != "success") Interlocked.Increment(ref errors);
            }
        }));
        return LatencyStats.From(latencies.SelectMany(l => l).ToList(), Stopwatch.GetElapsedTime(started), errors);
    }
}
