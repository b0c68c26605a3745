using System.Text;

namespace Tern.Bench;

/// <summary>The targets of the issues, each met or missed by how much, from this run's figures.</summary>
public sealed partial class Report
{
    private void Targets(StringBuilder md)
    {
        md.AppendLine("## Targets").AppendLine();
        md.AppendLine("| target | measured | |").AppendLine("|---|---|---|");
        void Row(string target, string measured, bool met, string by = "") => md.AppendLine($"| {target} | {measured} | {(met ? "met" : "missed " + by)} |");

        var go32 = HeadlineAt("Go echo", 32);
        var py32 = HeadlineAt("Python echo", 32);
        if (go32 is not null)
        {
            Row("daemon CPU per warm call ≤ 0.15 ms (Go echo, 32 connections)", $"{go32.Cpu.Daemon:0.000} ms", go32.Cpu.Daemon <= 0.15,
                $"({go32.Cpu.Daemon / 0.15:0.0}x)");
            Row("agent CPU per warm call ≤ 0.05 ms (Go echo, 32 connections)", $"{go32.Cpu.Agents:0.000} ms", go32.Cpu.Agents <= 0.05,
                $"({go32.Cpu.Agents / 0.05:0.0}x)");
            if (BareAt(32) is { } bare32)
            {
                var ratio = go32.Stats.RequestsPerSecond / bare32.Stats.RequestsPerSecond;
                Row("Go echo through the API ≥ 0.30x the bare ASP.NET Core echo, 32 connections, 0 errors",
                    $"{ratio:0.00}x ({go32.Stats.RequestsPerSecond:0} / {bare32.Stats.RequestsPerSecond:0} req/s), {go32.Stats.Errors} errors",
                    ratio >= 0.30 && go32.Stats.Errors == 0, $"(reached {ratio / 0.30:P0} of it)");
            }
        }
        if (py32 is not null && DirectFor(py32) is { } pyDirect)
        {
            var ratio = py32.Stats.RequestsPerSecond / pyDirect.Stats.RequestsPerSecond;
            Row("Python echo at defaults ≥ 0.8x the direct-socket throughput of the same workers (4), 32 connections",
                $"{ratio:0.00}x ({py32.Stats.RequestsPerSecond:0} / {pyDirect.Stats.RequestsPerSecond:0} req/s)", ratio >= 0.8, $"(reached {ratio / 0.8:P0} of it)");
        }
        foreach (var scenario in new[] { "Go echo", "Python echo" })
            if (HeadlineAt(scenario, 8) is { } at8)
                Row($"p99 ≤ 3x p50 at 8 connections ({scenario})", $"{at8.P99OverP50:0.0}x ({at8.Stats.P99Ms:0.00} / {at8.Stats.P50Ms:0.00} ms)",
                    at8.P99OverP50 <= 3, $"({at8.P99OverP50 / 3:0.0}x the bound{FloorTail(8)})");
        if (HeadlineAt("Go echo", 1) is { } go1)
            Row("one keep-alive connection p50 ≤ 0.5 ms (Go echo)", $"{go1.Stats.P50Ms:0.000} ms (p99 {go1.Stats.P99Ms:0.00})", go1.Stats.P50Ms <= 0.5,
                $"({go1.Stats.P50Ms / 0.5:0.0}x)");
        var allocations = _headline.Where(h => h.AllocatedBytesPerCall is not null).Select(h => h.AllocatedBytesPerCall!.Value).ToList();
        if (allocations.Count > 0)
            Row($"daemon allocations per warm call ≤ {AllocationBudgetBytes / 1024:0} KB (worst headline run)", $"{allocations.Max():0} bytes",
                allocations.Max() <= AllocationBudgetBytes, $"({allocations.Max() / AllocationBudgetBytes:0.0}x)");
        if (_cold.FirstOrDefault(c => c.Runtime == "python") is { Runtime: not null } py)
        {
            var ratio = py.Template.P50Ms / py.Bare.P50Ms;
            Row("sandboxed Python cold start ≤ 1.3x a bare `python3` spawn (p50, from a spare)", $"{ratio:0.00}x", ratio <= 1.3, $"by {ratio - 1.3:0.00}x");
        }
        if (_zygote is var (spare, _))
            Row("Python cold start from a template ≤ 5 ms (persistent, zygote; p50)", $"{spare.P50Ms:0.0} ms (p99 {spare.P99Ms:0.0})", spare.P50Ms <= 5);
        if (_async is var (_, _, wrk, _, _))
        {
            var accepted = wrk.Count == 0 ? 0 : wrk.RequestsPerSecond * (wrk.Count - wrk.Errors) / wrk.Count;
            Row("durable enqueue ≥ 5,000 accepted/s", $"{accepted:0}/s", accepted >= AsyncTargetPerSecond);
        }
        md.AppendLine();
        md.AppendLine("What limits the misses is written up, with the profiles, in [hot-path.md](hot-path.md): on this paravirtual");
        md.AppendLine("machine every context switch and system call pays for re-enabling interrupts through the hypervisor");
        md.AppendLine("(`pvm_irq_enable` is 40-70% of every process's profile), and a call through a sandboxed worker takes at least four");
        md.AppendLine("wake-ups (client → daemon → handler → daemon → client, since the agent hands the handler's pipes to the daemon)");
        md.AppendLine("where the bare echo takes two.").AppendLine();
    }
}
