namespace Tern.Bench.Soak;

/// <summary>What the load did between two samples: calls by outcome and the sync calls' latencies.</summary>
public sealed class SoakInterval
{
    private readonly object _gate = new();
    private readonly List<double> _syncMs = [];

    public long Calls { get; private set; }
    public long Errors { get; private set; }
    /// <summary>Status codes other than 200/202, and 0 for a failed connection, with counts (for the summary).</summary>
    public Dictionary<int, long> Failures { get; } = [];

    public void Record(SoakMix.Kind kind, int status, TimeSpan took)
    {
        lock (_gate)
        {
            Calls++;
            var ok = kind.Async ? status == 202 : status == 200;
            if (!ok)
            {
                Errors++;
                Failures[status] = Failures.GetValueOrDefault(status) + 1;
            }
            if (!kind.Async && ok) _syncMs.Add(took.TotalMilliseconds);
        }
    }

    public double PercentileMs(double p)
    {
        lock (_gate)
        {
            if (_syncMs.Count == 0) return double.NaN;
            _syncMs.Sort();
            return _syncMs[Math.Min(_syncMs.Count - 1, (int)(p * _syncMs.Count))];
        }
    }
}
