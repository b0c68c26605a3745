using System.Text;

namespace Tern.Bench;

/// <summary>Collects the figures of one run and renders docs/benchmarks.md, with ratios against the baselines of the same run.</summary>
public sealed partial class Report(string arguments)
{
    private readonly List<(string Runtime, LatencyStats Bare, LatencyStats Sandboxed, LatencyStats Template)> _cold = [];
    private readonly List<WarmRun> _headline = [];
    private readonly List<WarmRun> _variants = [];
    private readonly List<WarmRun> _bare = [];
    private readonly List<WarmRun> _direct = [];
    private readonly List<(string What, double Mb)> _rss = [];
    private (LatencyStats FromSpare, LatencyStats NewSandbox)? _zygote;
    private (int Connections, TimeSpan Duration, LatencyStats Wrk, LatencyStats Server, LatencyStats Client)? _async;
    private long _otlpExports;

    public const double AsyncTargetPerSecond = 5000;
    public const double AllocationBudgetBytes = 4096;

    public void ColdStart(string runtime, LatencyStats bare, LatencyStats sandboxed, LatencyStats template) =>
        _cold.Add((runtime, bare, sandboxed, template));
    public void ZygoteColdStart(LatencyStats fromSpare, LatencyStats newSandbox) => _zygote = (fromSpare, newSandbox);
    public void Headline(WarmRun run) => _headline.Add(run);
    public void Variant(WarmRun run) => _variants.Add(run);
    public void Bare(WarmRun run) => _bare.Add(run);
    public void Direct(WarmRun run) => _direct.Add(run);
    public void OtlpExports(long count) => _otlpExports = count;
    public void DaemonRss(string what, double mb) => _rss.Add((what, mb));
    public void AsyncEnqueue(int connections, TimeSpan duration, LatencyStats wrk, LatencyStats server, LatencyStats client) =>
        _async = (connections, duration, wrk, server, client);
    public void WorkerRss(double mb) => _rss.Insert(0, ("one idle warm worker (persistent Python: bubblewrap + agent + interpreter)", mb));

    private WarmRun? BareAt(int connections) => _bare.FirstOrDefault(b => b.Connections == connections);

    /// <summary>The bare echo's own tail at these connections, so a missed tail bound can be read against the machine's.</summary>
    private string FloorTail(int connections) =>
        BareAt(connections) is { } bare ? $"; the bare ASP.NET Core echo's own p99 / p50 here: {bare.P99OverP50:0.0}x" : "";

    /// <summary>The direct run with as many workers as the API run kept busy: the default concurrency (4) caps a
    /// function at four workers with one call each; one connection keeps one worker busy.</summary>
    private WarmRun? DirectFor(WarmRun api) => _direct.FirstOrDefault(d => d.Scenario == api.Scenario && d.Connections == Math.Min(api.Connections, 4));

    private WarmRun? HeadlineAt(string scenario, int connections) =>
        _headline.FirstOrDefault(h => h.Scenario == scenario && h.Connections == connections);

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmarks").AppendLine();
        md.AppendLine("Produced by one run of `bench/run.sh` (`dotnet Tern.Bench.dll " + arguments + "`); every ratio compares against");
        md.AppendLine("a baseline measured in the same run. These machines are shared and noisy: compare ratios, not absolutes, and prefer");
        md.AppendLine("the CPU-per-call tables (from /proc) to requests per second.").AppendLine();
        md.AppendLine($"Machine: {Machine()}; run at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC.").AppendLine();
        md.AppendLine("The headline uses what a new user gets: the daemon with no settings, and functions registered with only their");
        md.AppendLine("runtime, code, `mode: persistent` and `handler` (so `concurrency` 4, `instanceConcurrency` 1, `maxReplicas` 10), with");
        md.AppendLine("execution records, metrics, the request log and execution logs all on. Each daemon is first loaded until its JIT has");
        md.AppendLine("finished tiering up (the first ~15 s of load spend a quarter of its CPU recompiling); wrk POSTs `{\"k\":1}`.");
        md.AppendLine("Handlers: Python `def handler(event, context): return event`; Go: `bench/echo-go` (one thread, one write per batch).").AppendLine();
        Targets(md);
        Headline(md);
        Cpu(md);
        Allocations(md);
        Variants(md);
        Floors(md);
        Async(md);
        ColdStarts(md);
        md.AppendLine("## Memory (RSS)").AppendLine();
        md.AppendLine("| what | MB |").AppendLine("|---|---:|");
        foreach (var (what, mb) in _rss) md.AppendLine($"| {what} | {mb:0.0} |");
        md.AppendLine();
        return md.ToString();
    }

    private void Headline(StringBuilder md)
    {
        md.AppendLine("## Warm sync invoke at function defaults").AppendLine();
        md.AppendLine("\"vs bare\" divides by the bare ASP.NET Core echo at the same connections; \"vs direct\" by the same workers driven");
        md.AppendLine("straight over their agent sockets (one worker at 1 connection, the default concurrency of four at 8 and 32).").AppendLine();
        md.AppendLine("| function | connections | req/s | p50 ms | p99 ms | p99 / p50 | vs bare echo | vs direct | errors |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var h in _headline)
            md.AppendLine($"| {h.Scenario} | {h.Connections} | {h.Stats.RequestsPerSecond:0} | {h.Stats.P50Ms:0.00} | {h.Stats.P99Ms:0.00} | " +
                          $"{h.P99OverP50:0.0}x | {Ratio(h, BareAt(h.Connections))} | {Ratio(h, DirectFor(h))} | {h.Stats.Errors} |");
        md.AppendLine();
    }

    private static string Ratio(WarmRun run, WarmRun? baseline) =>
        baseline is null ? "" : $"{run.Stats.RequestsPerSecond / baseline.Stats.RequestsPerSecond:0.00}x";

    private void Cpu(StringBuilder md)
    {
        md.AppendLine("## CPU per call by process (ms)").AppendLine();
        md.AppendLine("utime + stime from /proc before and after each run, divided by the calls. \"agents\" sums every worker's");
        md.AppendLine("`tern-agent`, \"handler\" every process under them; the load generator is wrk (or, for the direct rows, this");
        md.AppendLine("benchmark process driving the sockets).").AppendLine();
        md.AppendLine("| scenario | connections | daemon | agents | handler | load generator | total |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in _headline.Concat(_variants))
            md.AppendLine($"| {r.Scenario} | {r.Connections} | {r.Cpu.Daemon:0.000} | {r.Cpu.Agents:0.000} | {r.Cpu.Handlers:0.000} | {r.Cpu.LoadGenerator:0.000} | {r.Cpu.Total:0.000} |");
        foreach (var r in _bare)
            md.AppendLine($"| {r.Scenario} (the echo process as \"daemon\") | {r.Connections} | {r.Cpu.Daemon:0.000} | | | {r.Cpu.LoadGenerator:0.000} | {r.Cpu.Total:0.000} |");
        foreach (var r in _direct)
            md.AppendLine($"| {r.Scenario}, direct socket | {r.Connections} workers | | {r.Cpu.Agents:0.000} | {r.Cpu.Handlers:0.000} | {r.Cpu.Client:0.000} | {r.Cpu.Total:0.000} |");
        md.AppendLine();
    }

    private void Allocations(StringBuilder md)
    {
        md.AppendLine($"## Daemon allocations per call (budget {AllocationBudgetBytes / 1024:0} KB)").AppendLine();
        md.AppendLine("The daemon's own `tern_process_allocated_bytes_total` (GC.GetTotalAllocatedBytes) before and after each run.").AppendLine();
        md.AppendLine("| scenario | connections | bytes per call | budget |").AppendLine("|---|---:|---:|---|");
        foreach (var r in _headline.Concat(_variants).Where(r => r.AllocatedBytesPerCall is not null))
            md.AppendLine($"| {r.Scenario} | {r.Connections} | {r.AllocatedBytesPerCall:0} | {(r.AllocatedBytesPerCall <= AllocationBudgetBytes ? "met" : "missed")} |");
        md.AppendLine();
    }

    private void Variants(StringBuilder md)
    {
        md.AppendLine("## Tuned variants (not defaults)").AppendLine();
        md.AppendLine("| variant | connections | req/s | p50 ms | p99 ms | vs bare echo | errors |").AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var v in _variants)
            md.AppendLine($"| {v.Scenario} | {v.Connections} | {v.Stats.RequestsPerSecond:0} | {v.Stats.P50Ms:0.00} | {v.Stats.P99Ms:0.00} | {Ratio(v, BareAt(v.Connections))} | {v.Stats.Errors} |");
        if (_otlpExports > 0) md.AppendLine().AppendLine($"The OTLP variant's stand-in collector received {_otlpExports} exports.");
        md.AppendLine();
    }

    private void Floors(StringBuilder md)
    {
        md.AppendLine("## Floors measured in the same run").AppendLine();
        md.AppendLine("| floor | connections or workers | req/s | p50 ms | p99 ms | p99 / p50 |").AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var b in _bare) md.AppendLine($"| {b.Scenario} | {b.Connections} | {b.Stats.RequestsPerSecond:0} | {b.Stats.P50Ms:0.00} | {b.Stats.P99Ms:0.00} | {b.P99OverP50:0.0}x |");
        foreach (var d in _direct) md.AppendLine($"| {d.Scenario}, direct socket | {d.Connections} workers | {d.Stats.RequestsPerSecond:0} | {d.Stats.P50Ms:0.000} | {d.Stats.P99Ms:0.000} | {d.P99OverP50:0.0}x |");
        md.AppendLine();
    }

    private void Async(StringBuilder md)
    {
        if (_async is not var (connections, duration, wrk, server, client)) return;
        var accepted = wrk.Count - wrk.Errors;
        var acceptedPerSecond = wrk.Count == 0 ? 0 : wrk.RequestsPerSecond * accepted / wrk.Count;
        md.AppendLine("## Async (durable enqueue)").AppendLine();
        md.AppendLine($"Throughput: wrk POSTing `:enqueue` for {duration.TotalSeconds:0} s over {connections} connections to a process-mode Python");
        md.AppendLine("function (concurrency 2, queueSize 100000, so it drains slowly behind the load and the queue never fills). A 202 means");
        md.AppendLine("the execution record is committed to SQLite (WAL) before the answer; only 202s count as accepted.").AppendLine();
        md.AppendLine("| connections | accepted enqueues/s | target | requests | non-2xx | p50 ms | p99 ms |");
        md.AppendLine("|---:|---:|---|---:|---:|---:|---:|");
        md.AppendLine($"| {connections} | {acceptedPerSecond:0} | ≥ {AsyncTargetPerSecond:0} ({(acceptedPerSecond >= AsyncTargetPerSecond ? "met" : "not met")}) | " +
                      $"{wrk.Count} | {wrk.Errors} | {wrk.P50Ms:0.00} | {wrk.P99Ms:0.00} |");
        md.AppendLine();
        md.AppendLine($"End-to-end latency: {server.Count} single calls, one at a time, to a warm persistent Python echo: POST `:enqueue`, then");
        md.AppendLine("GET `/v1/executions/{id}` every ~1 ms until `success`. The record's figure is `finishedAt - createdAt` (accept, queue,");
        md.AppendLine("dispatch, run, store); the client's adds the HTTP round trips and up to one poll interval.").AppendLine();
        md.AppendLine("| enqueue to finished | p50 ms | p99 ms |").AppendLine("|---|---:|---:|");
        md.AppendLine($"| from the record (finishedAt - createdAt) | {server.P50Ms:0.00} | {server.P99Ms:0.00} |");
        md.AppendLine($"| observed by the client | {client.P50Ms:0.00} | {client.P99Ms:0.00} |").AppendLine();
    }

    private void ColdStarts(StringBuilder md)
    {
        md.AppendLine("## Cold start (process mode: sandbox + agent Init + first call answered) against a bare spawn").AppendLine();
        md.AppendLine("\"From a spare\" is what the daemon does when a spare template worker is ready (it keeps two per driver):");
        md.AppendLine("the sandbox is already up, so a cold start is hard-linking the code into /code, setting the cgroup limits, Init");
        md.AppendLine("and the first call. \"New sandbox\" is the path taken when no spare is ready (a burst larger than the spares).").AppendLine();
        md.AppendLine("| runtime | bare spawn p50 / p99 ms | from a spare p50 / p99 ms | ratio | new sandbox p50 / p99 ms | ratio |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (runtime, bare, sandboxed, template) in _cold)
            md.AppendLine($"| {runtime} | {bare.P50Ms:0.0} / {bare.P99Ms:0.0} | {template.P50Ms:0.0} / {template.P99Ms:0.0} | {template.P50Ms / bare.P50Ms:0.00}x | " +
                          $"{sandboxed.P50Ms:0.0} / {sandboxed.P99Ms:0.0} | {sandboxed.P50Ms / bare.P50Ms:0.00}x |");
        md.AppendLine();
        if (_zygote is var (spare, fresh))
        {
            md.AppendLine("Persistent-mode Python (`echo.handler`): a spare worker's agent keeps a Python bootstrap waiting (a zygote), so");
            md.AppendLine("a cold start from a spare is assign + Init (import the module) + first call. Target: at most 5 ms.").AppendLine();
            md.AppendLine("| persistent Python cold start | p50 ms | p99 ms |").AppendLine("|---|---:|---:|");
            md.AppendLine($"| from a spare (zygote) | {spare.P50Ms:0.0} | {spare.P99Ms:0.0} |");
            md.AppendLine($"| new sandbox (bootstrap started at Init) | {fresh.P50Ms:0.0} | {fresh.P99Ms:0.0} |").AppendLine();
        }
    }

    private static string Machine()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKb = long.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return $"{Environment.ProcessorCount} cores ({cpu}), {memKb / 1024 / 1024.0:0} GiB, Linux {Environment.OSVersion.Version}";
    }
}
