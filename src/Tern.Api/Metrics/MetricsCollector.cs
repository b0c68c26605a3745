using System.Diagnostics.Metrics;
using System.Globalization;
using Tern.Core.Telemetry;
using Tern.Invocation;
using Tern.Pools;

namespace Tern.Api.Metrics;

/// <summary>Listens to this daemon's "Tern" meter and keeps every instrument's series in memory (counters summed,
/// gauges as last seen, histograms as bucket counts, sum and count), for GET /metrics and GET /v1/stats. Also gives the
/// gauges their sources: the async queues and the pools.</summary>
public sealed class MetricsCollector : IDisposable
{
    private readonly MeterListener _listener;
    private readonly Lock _collectLock = new();
    private readonly Lock _lock = new();
    private readonly List<InstrumentState> _instruments = [];

    public MetricsCollector(TernMetrics metrics, PoolManager pools, InvocationService invocations)
    {
        metrics.QueueDepthSource = invocations.QueueDepths;
        metrics.WorkersSource = () => pools.Pools.GroupBy(p => p.Function.Name, StringComparer.Ordinal)
            .Select(g => KeyValuePair.Create(g.Key, g.Sum(p => p.WorkerCount)));
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (!ReferenceEquals(instrument.Meter, metrics.Meter)) return;
                var state = new InstrumentState(instrument);
                lock (_lock) _instruments.Add(state);
                listener.EnableMeasurementEvents(instrument, state);
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Reads the gauges now and returns every instrument's series, families in the order they were created.</summary>
    public IReadOnlyList<MetricFamily> Collect()
    {
        lock (_collectLock)
        {
            List<InstrumentState> instruments;
            lock (_lock) instruments = [.. _instruments];
            foreach (var i in instruments.Where(i => i.Instrument.IsObservable)) i.Clear();
            _listener.RecordObservableInstruments();
            return [.. instruments.Select(i => i.Snapshot())];
        }
    }

    public void Dispose() => _listener.Dispose();

    private sealed class InstrumentState
    {
        private static readonly double[] DefaultBounds = TernMetrics.SecondsBuckets;
        private readonly Lock _lock = new();
        private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly Dictionary<SeriesKey, Series> _cache = [];
        private readonly string _type;
        private readonly string _name;
        private readonly double[]? _bounds;
        private readonly bool _accumulate;

        public InstrumentState(Instrument instrument)
        {
            Instrument = instrument;
            var definition = instrument.GetType().GetGenericTypeDefinition();
            var counter = definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>);
            var histogram = definition == typeof(Histogram<>);
            _type = counter ? "counter" : histogram ? "histogram" : "gauge";
            _name = counter && !instrument.Name.EndsWith("_total", StringComparison.Ordinal) ? instrument.Name + "_total" : instrument.Name;
            // Counters and up-down counters report deltas; observable instruments and gauges report the current value.
            _accumulate = !instrument.IsObservable && (counter || definition == typeof(UpDownCounter<>));
            if (histogram)
                _bounds = (instrument as Histogram<double>)?.Advice?.HistogramBucketBoundaries?.ToArray()
                    ?? (instrument as Histogram<long>)?.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray()
                    ?? DefaultBounds;
        }

        public Instrument Instrument { get; }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            lock (_lock)
            {
                // The instruments' few tags (function, status, reason) key a cache, so a measurement of a series seen
                // before allocates nothing; the label strings and sorted key are built once per series.
                if (!SeriesKey.TryCreate(tags, out var cacheKey) || !_cache.TryGetValue(cacheKey, out var series))
                {
                    series = Lookup(tags);
                    if (SeriesKey.TryCreate(tags, out cacheKey)) _cache[cacheKey] = series;
                }
                if (series.Buckets is { } buckets)
                {
                    var index = 0;
                    while (index < _bounds!.Length && value > _bounds[index]) index++;
                    buckets[index]++; // the last bucket is +Inf
                    series.Sum += value;
                    series.Count++;
                }
                else if (_accumulate) series.Value += value;
                else series.Value = value;
            }
        }

        private Series Lookup(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = new KeyValuePair<string, string>[tags.Length];
            for (var i = 0; i < tags.Length; i++)
                labels[i] = KeyValuePair.Create(tags[i].Key, Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "");
            Array.Sort(labels, (a, b) => string.CompareOrdinal(a.Key, b.Key));
            var key = string.Join('\u0001', labels.Select(l => l.Key + '\u0002' + l.Value));
            if (!_series.TryGetValue(key, out var series))
                _series[key] = series = new Series(labels, _bounds is null ? null : new long[_bounds.Length + 1]);
            return series;
        }

        public void Clear()
        {
            lock (_lock)
            {
                _series.Clear();
                _cache.Clear();
            }
        }

        public MetricFamily Snapshot()
        {
            lock (_lock)
            {
                var series = _series.Values.Select(s => new MetricSeries(s.Labels, s.Value)
                {
                    Bounds = _bounds, BucketCounts = s.Buckets?.ToArray(), Sum = s.Sum, Count = s.Count,
                }).ToList();
                return new MetricFamily(_name, _type, Instrument.Description ?? _name, series);
            }
        }
    }

    private sealed class Series(KeyValuePair<string, string>[] labels, long[]? buckets)
    {
        public KeyValuePair<string, string>[] Labels { get; } = labels;
        public long[]? Buckets { get; } = buckets;
        public double Value { get; set; }
        public double Sum { get; set; }
        public long Count { get; set; }
    }

    /// <summary>Up to three tags as given (same order at a call site), compared by value: a cache key that costs nothing.</summary>
    private readonly record struct SeriesKey(string? K1, object? V1, string? K2, object? V2, string? K3, object? V3)
    {
        public static bool TryCreate(ReadOnlySpan<KeyValuePair<string, object?>> tags, out SeriesKey key)
        {
            key = tags.Length switch
            {
                0 => default,
                1 => new(tags[0].Key, tags[0].Value, null, null, null, null),
                2 => new(tags[0].Key, tags[0].Value, tags[1].Key, tags[1].Value, null, null),
                3 => new(tags[0].Key, tags[0].Value, tags[1].Key, tags[1].Value, tags[2].Key, tags[2].Value),
                _ => default,
            };
            return tags.Length <= 3;
        }
    }
}
