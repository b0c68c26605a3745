using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tern.Api.Metrics;

/// <summary>GET /v1/stats: the same numbers as /metrics, per function, as JSON.</summary>
public sealed record StatsReport(
    IReadOnlyDictionary<string, FunctionStats> Functions, WorkerTotals Workers, IReadOnlyDictionary<string, long> Rejections, long SchedulerRuns)
{
    public static StatsReport From(IReadOnlyList<MetricFamily> families)
    {
        var functions = new SortedDictionary<string, FunctionStats>(StringComparer.Ordinal);
        var rejections = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long started = 0, stopped = 0, crashed = 0, schedulerRuns = 0;
        foreach (var family in families)
        {
            foreach (var s in family.Series)
            {
                var name = s.Label("function");
                var value = (long)s.Value;
                var f = name is null ? null : functions.TryGetValue(name, out var known) ? known : functions[name] = new FunctionStats();
                switch (family.Name)
                {
                    case "tern_invocations_total" when f is not null:
                        var status = s.Label("status") ?? "";
                        f.Invocations[status] = f.Invocations.GetValueOrDefault(status) + value;
                        break;
                    case "tern_cold_starts_total" when f is not null: f.ColdStarts += value; break;
                    case "tern_warm_starts_total" when f is not null: f.WarmStarts += value; break;
                    case "tern_inflight" when f is not null: f.InFlight += value; break;
                    case "tern_queue_depth" when f is not null: f.QueueDepth += value; break;
                    case "tern_workers" when f is not null: f.Workers += value; break;
                    case "tern_invocation_duration_seconds" when f is not null: f.Duration = DurationStats.From(s); break;
                    case "tern_rejections_total":
                        var reason = s.Label("reason") ?? "";
                        rejections[reason] = rejections.GetValueOrDefault(reason) + value;
                        if (f is not null) f.Rejections[reason] = f.Rejections.GetValueOrDefault(reason) + value;
                        break;
                    case "tern_workers_started_total": started += value; break;
                    case "tern_workers_stopped_total": stopped += value; break;
                    case "tern_workers_crashed_total": crashed += value; break;
                    case "tern_scheduler_runs_total": schedulerRuns += value; break;
                }
            }
        }
        return new StatsReport(functions, new WorkerTotals(started, stopped, crashed), rejections, schedulerRuns);
    }
}

public sealed class FunctionStats
{
    /// <summary>Calls that ran, by status (success, error, timeout).</summary>
    public SortedDictionary<string, long> Invocations { get; } = new(StringComparer.Ordinal);
    public long ColdStarts { get; set; }
    public long WarmStarts { get; set; }
    public DurationStats Duration { get; set; } = new(0, 0, 0, 0);
    public long InFlight { get; set; }
    public long QueueDepth { get; set; }
    public long Workers { get; set; }
    public SortedDictionary<string, long> Rejections { get; } = new(StringComparer.Ordinal);
}

/// <summary>Call durations in milliseconds; p50 and p99 are estimated from the histogram buckets (linear within a bucket).</summary>
public sealed record DurationStats(long Count, double AvgMs, double P50Ms, double P99Ms)
{
    public static DurationStats From(MetricSeries s) =>
        s.Count == 0 || s.Bounds is null || s.BucketCounts is null
            ? new(0, 0, 0, 0)
            : new(s.Count, Math.Round(s.Sum / s.Count * 1000, 3), Quantile(0.5, s) * 1000, Quantile(0.99, s) * 1000);

    /// <summary>As Prometheus's histogram_quantile: find the bucket holding the rank and interpolate inside it.</summary>
    public static double Quantile(double q, MetricSeries s)
    {
        var bounds = s.Bounds!;
        var counts = s.BucketCounts!;
        var rank = q * s.Count;
        long cumulative = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            var previous = cumulative;
            cumulative += counts[i];
            if (cumulative < rank || counts[i] == 0) continue;
            if (i >= bounds.Count) return bounds[^1]; // the +Inf bucket: the highest finite bound is the best estimate
            var lower = i == 0 ? 0 : bounds[i - 1];
            return Math.Round(lower + (bounds[i] - lower) * ((rank - previous) / counts[i]), 6);
        }
        return bounds[^1];
    }
}

public sealed record WorkerTotals(long Started, long Stopped, long Crashed);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StatsReport))]
internal sealed partial class StatsJsonContext : JsonSerializerContext;
