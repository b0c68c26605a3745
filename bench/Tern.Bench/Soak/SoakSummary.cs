using System.Globalization;
using System.Text;

namespace Tern.Bench.Soak;

/// <summary>The soak's verdict: growth after warm-up (the first minute, or a tenth of a shorter run) against the
/// targets, and the leftovers after SIGTERM.</summary>
public sealed class SoakSummary(IReadOnlyList<SoakSample> samples, double peak, double rate, TimeSpan duration, SoakLeftovers leftovers)
{
    private const double MaxRssGrowth = 0.10;

    private TimeSpan WarmUp => TimeSpan.FromSeconds(Math.Min(60, duration.TotalSeconds / 10));

    /// <summary>The sample at the end of warm-up, and the mean of the last three (one sample is noisy).</summary>
    private (SoakSample Start, double RssEnd, double FdsEnd, double ThreadsEnd) Window()
    {
        var start = samples.FirstOrDefault(s => s.ElapsedSeconds >= WarmUp.TotalSeconds) ?? samples[0];
        var tail = samples.TakeLast(3).ToList();
        return (start, tail.Average(s => s.Resources.RssMb), tail.Average(s => s.Resources.Fds), tail.Average(s => s.Resources.Threads));
    }

    /// <summary>fds and threads follow the worker count, which follows load: "no growth" allows the larger of 5 or 5%.</summary>
    private static bool NoGrowth(double start, double end) => end <= start + Math.Max(5, start * 0.05);

    public bool AllMet
    {
        get
        {
            var (start, rss, fds, threads) = Window();
            return (rss - start.Resources.RssMb) / start.Resources.RssMb < MaxRssGrowth
                && NoGrowth(start.Resources.Fds, fds) && NoGrowth(start.Resources.Threads, threads) && leftovers.None;
        }
    }

    public string ToMarkdown(string command, string csvName)
    {
        var (start, rss, fds, threads) = Window();
        var calls = samples.Sum(s => s.CallsPerSecond * 5);
        var errors = samples.Sum(s => s.Errors);
        var failures = samples.SelectMany(s => s.Failures).GroupBy(f => f.Key).Select(g => $"{(g.Key == 0 ? "connection" : g.Key.ToString())}: {g.Sum(f => f.Value)}");
        var b = new StringBuilder();
        b.AppendLine("# Soak run").AppendLine();
        b.AppendLine($"Produced by `{command}` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC ({Environment.ProcessorCount} cores). One daemon with default");
        b.AppendLine("settings; a mix of sync calls (persistent Python 35%, persistent Go 35%, process-mode Python 10%) and async enqueues");
        b.AppendLine("(Python 10%, Go 10%) at 80% of the peak the same mix reached just before (32 clients, no pause). Sampled every 5 s:");
        b.AppendLine($"`{csvName}` (columns: {SoakSample.CsvHeader}). Warm-up: the first {WarmUp.TotalSeconds:F0} s.").AppendLine();
        b.AppendLine("| measure | value | target | met |").AppendLine("|---|---|---|---|");
        b.AppendLine($"| peak of the mix | {peak:F0} calls/s | | |");
        b.AppendLine($"| soak rate | {rate:F0} calls/s for {duration.TotalMinutes:F0} min ({calls:F0} calls, {errors} not 200/202{(errors > 0 ? ": " + string.Join(", ", failures) : "")}) | 80% of peak | |");
        b.AppendLine($"| RSS after warm-up -> end | {start.Resources.RssMb:F0} -> {rss:F0} MB ({Pct(rss, start.Resources.RssMb)}) | under +10% | {Yes((rss - start.Resources.RssMb) / start.Resources.RssMb < MaxRssGrowth)} |");
        b.AppendLine($"| open fds after warm-up -> end | {start.Resources.Fds} -> {fds:F0} (max {samples.Max(s => s.Resources.Fds)}) | no growth | {Yes(NoGrowth(start.Resources.Fds, fds))} |");
        b.AppendLine($"| threads after warm-up -> end | {start.Resources.Threads} -> {threads:F0} (max {samples.Max(s => s.Resources.Threads)}) | no growth | {Yes(NoGrowth(start.Resources.Threads, threads))} |");
        b.AppendLine($"| sandboxes during the run | {samples.Min(s => s.Resources.Sandboxes)} to {samples.Max(s => s.Resources.Sandboxes)} | | |");
        b.AppendLine($"| sync latency p50 / p99 (median of 5 s windows) | {Median(samples.Select(s => s.P50Ms)):F2} / {Median(samples.Select(s => s.P99Ms)):F2} ms | | |");
        b.AppendLine($"| daemon CPU (median of 5 s windows) | {Median(samples.Select(s => s.DaemonCpuPercent)):F0}% of one core | | |");
        b.AppendLine($"| stopped by SIGTERM within 15 s | {Yes(leftovers.StoppedInTime)} | yes | {Yes(leftovers.StoppedInTime)} |");
        b.AppendLine($"| left after stop: sandboxes / worker dirs / cgroups | {leftovers.Sandboxes} / {leftovers.WorkerDirs} / {Math.Max(0, leftovers.Cgroups)} | 0 / 0 / 0 | {Yes(leftovers.None)} |");
        return b.ToString();
    }

    private static string Pct(double end, double start) => ((end - start) / start).ToString("+0.0%;-0.0%;0.0%", CultureInfo.InvariantCulture);

    private static string Yes(bool value) => value ? "yes" : "**no**";

    private static double Median(IEnumerable<double> values)
    {
        var list = values.Where(v => !double.IsNaN(v)).Order().ToList();
        return list.Count == 0 ? double.NaN : list[list.Count / 2];
    }
}
