namespace Tern.Bench;

/// <summary>Throughput and latency percentiles of one measured run.</summary>
public sealed record LatencyStats(double RequestsPerSecond, double P50Ms, double P99Ms, int Count, int Errors = 0)
{
    public static LatencyStats From(List<double> latenciesMs, TimeSpan elapsed, int errors = 0)
    {
        latenciesMs.Sort();
        return new LatencyStats(latenciesMs.Count / elapsed.TotalSeconds, Percentile(latenciesMs, 0.50), Percentile(latenciesMs, 0.99), latenciesMs.Count, errors);
    }

    /// <summary>Nearest-rank percentile of a sorted list.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
