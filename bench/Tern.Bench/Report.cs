using System.Text;

namespace Tern.Bench;

/// <summary>Collects the figures of one run and renders docs/benchmarks.md, with ratios against the baselines of the same run.</summary>
public sealed class Report(string arguments)
{
    private readonly List<(string Runtime, LatencyStats Bare, LatencyStats Sandboxed, LatencyStats Template)> _cold = [];
    private readonly Dictionary<int, LatencyStats> _http = [];
    private readonly Dictionary<int, LatencyStats> _direct = [];
    private readonly List<(string What, double Mb)> _rss = [];
    private (LatencyStats FromSpare, LatencyStats NewSandbox)? _zygote;

    public void ColdStart(string runtime, LatencyStats bare, LatencyStats sandboxed, LatencyStats template) =>
        _cold.Add((runtime, bare, sandboxed, template));
    public void ZygoteColdStart(LatencyStats fromSpare, LatencyStats newSandbox) => _zygote = (fromSpare, newSandbox);
    public void WarmHttp(int connections, LatencyStats stats) => _http[connections] = stats;
    public void Direct(int concurrency, LatencyStats stats) => _direct[concurrency] = stats;
    public void DaemonRss(string what, double mb) => _rss.Add((what, mb));
    public void WorkerRss(double mb) => _rss.Insert(0, ("one idle warm worker (persistent Python: bubblewrap + agent + interpreter)", mb));

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmarks").AppendLine();
        md.AppendLine("Produced by one run of `bench/run.sh` (`dotnet Tern.Bench.dll " + arguments + "`); every ratio compares against");
        md.AppendLine("a baseline measured in the same run. These machines are shared and noisy: compare ratios, not absolutes.").AppendLine();
        md.AppendLine($"Machine: {Machine()}; run at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC.").AppendLine();

        md.AppendLine("## Warm sync invoke, Python echo (persistent mode, one warm worker)").AppendLine();
        md.AppendLine("Through the HTTP API (wrk, POST `:invoke`) against the same kind of worker driven directly over its agent socket.").AppendLine();
        md.AppendLine("| connections | API req/s | API p50 ms | API p99 ms | direct req/s | direct p50 ms | direct p99 ms | API / direct throughput |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in _http.Keys.Order())
        {
            var h = _http[c];
            var d = _direct.GetValueOrDefault(c);
            md.AppendLine($"| {c} | {h.RequestsPerSecond:0} | {h.P50Ms:0.00} | {h.P99Ms:0.00} | {d?.RequestsPerSecond:0} | {d?.P50Ms:0.000} | {d?.P99Ms:0.000} | {(d is null ? "" : $"{h.RequestsPerSecond / d.RequestsPerSecond:0.00}x")} |");
        }
        if (_http.Values.Any(h => h.Errors > 0)) md.AppendLine().AppendLine($"Non-2xx responses: {string.Join(", ", _http.Select(kv => $"{kv.Key} conns: {kv.Value.Errors}"))}.");
        md.AppendLine();

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

        md.AppendLine("## Memory (RSS)").AppendLine();
        md.AppendLine("| what | MB |").AppendLine("|---|---:|");
        foreach (var (what, mb) in _rss) md.AppendLine($"| {what} | {mb:0.0} |");
        md.AppendLine();
        return md.ToString();
    }

    private static string Machine()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKb = long.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return $"{Environment.ProcessorCount} cores ({cpu}), {memKb / 1024 / 1024.0:0} GiB, Linux {Environment.OSVersion.Version}";
    }
}
