namespace Tern.Api.Metrics;

/// <summary>One metric (a Prometheus family) as collected: its series by label set.</summary>
/// <param name="Type">counter, gauge or histogram.</param>
public sealed record MetricFamily(string Name, string Type, string Help, IReadOnlyList<MetricSeries> Series);

/// <summary>One label set's value. A histogram series has per-bucket (not cumulative) counts, one more than its
/// bounds (the last is the +Inf bucket), plus its sum and count.</summary>
public sealed record MetricSeries(IReadOnlyList<KeyValuePair<string, string>> Labels, double Value)
{
    public IReadOnlyList<double>? Bounds { get; init; }
    public IReadOnlyList<long>? BucketCounts { get; init; }
    public double Sum { get; init; }
    public long Count { get; init; }

    public string? Label(string name)
    {
        foreach (var (key, value) in Labels)
            if (key == name) return value;
        return null;
    }
}
