using System.Diagnostics.Metrics;

namespace Tern.Core.Telemetry;

/// <summary>The daemon's instruments, on one Meter named "Tern" per daemon (so two daemons in one process, as in tests,
/// do not mix their numbers). Names are the Prometheus names; labels are `function`, `status`, `reason` and, on the
/// worker counters, `isolation` (the driver: sandbox, gvisor).
/// Gauges read their values from sources the hosting layer sets (the async queues, the pools).</summary>
public sealed class TernMetrics : IDisposable
{
    public const string MeterName = "Tern";

    /// <summary>Bucket bounds in seconds for the duration and queue-wait histograms.</summary>
    public static readonly double[] SecondsBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    public TernMetrics()
    {
        Meter = new Meter(MeterName);
        Invocations = Meter.CreateCounter<long>("tern_invocations_total", description: "Calls that ran, by function and status (success, error, timeout).");
        ColdStarts = Meter.CreateCounter<long>("tern_cold_starts_total", description: "Calls that started the worker they ran on.");
        WarmStarts = Meter.CreateCounter<long>("tern_warm_starts_total", description: "Calls served by a worker that was already running.");
        Duration = Meter.CreateHistogram("tern_invocation_duration_seconds", "s", "Time from admission to result of a call.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        QueueWait = Meter.CreateHistogram("tern_queue_wait_seconds", "s", "Time a call waited for a worker slot.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        Rejections = Meter.CreateCounter<long>("tern_rejections_total", description: "Calls turned away with 429, by reason (capacity, queue-full, rate-limit).");
        InFlight = Meter.CreateUpDownCounter<long>("tern_inflight", description: "Calls running now.");
        Meter.CreateObservableGauge("tern_queue_depth", () => Observe(QueueDepthSource), description: "Async calls waiting to run.");
        Meter.CreateObservableGauge("tern_workers", () => Observe(WorkersSource), description: "Workers running or retiring, per function.");
        WorkersStarted = Meter.CreateCounter<long>("tern_workers_started_total", description: "Workers started and initialised.");
        WorkersHandedOff = Meter.CreateCounter<long>("tern_workers_handed_off_total",
            description: "Persistent workers whose handler's pipes the daemon took over, so their warm calls skip the agent.");
        WorkersStopped = Meter.CreateCounter<long>("tern_workers_stopped_total", description: "Workers stopped (idle, replaced, retired or at shutdown).");
        WorkersCrashed = Meter.CreateCounter<long>("tern_workers_crashed_total", description: "Workers retired after a crash, a timeout or a failed ping.");
        SchedulerRuns = Meter.CreateCounter<long>("tern_scheduler_runs_total", description: "Calls started by a schedule.");
        // The process's own costs, for budgets (docs/benchmarks.md: bytes allocated per call) and tail-latency work.
        Meter.CreateObservableCounter("tern_process_allocated_bytes_total", () => GC.GetTotalAllocatedBytes(),
            description: "Bytes the daemon process has allocated on the managed heap.");
        Meter.CreateObservableCounter("tern_process_gc_pause_seconds_total", () => GC.GetTotalPauseDuration().TotalSeconds,
            description: "Time the daemon process has spent paused for garbage collection.");
        Meter.CreateObservableCounter("tern_process_gc_collections_total", () => GC.CollectionCount(0),
            description: "Garbage collections of the daemon process (all generations start with generation 0).");
    }

    public Meter Meter { get; }
    public Counter<long> Invocations { get; }
    public Counter<long> ColdStarts { get; }
    public Counter<long> WarmStarts { get; }
    public Histogram<double> Duration { get; }
    public Histogram<double> QueueWait { get; }
    public Counter<long> Rejections { get; }
    public UpDownCounter<long> InFlight { get; }
    public Counter<long> WorkersStarted { get; }
    public Counter<long> WorkersHandedOff { get; }
    public Counter<long> WorkersStopped { get; }
    public Counter<long> WorkersCrashed { get; }
    public Counter<long> SchedulerRuns { get; }

    /// <summary>Calls waiting per function (the async dispatcher's queues).</summary>
    public Func<IEnumerable<KeyValuePair<string, int>>>? QueueDepthSource { get; set; }

    /// <summary>Workers per function (the pools).</summary>
    public Func<IEnumerable<KeyValuePair<string, int>>>? WorkersSource { get; set; }

    public static KeyValuePair<string, object?> Function(string name) => new("function", name);

    public static KeyValuePair<string, object?> Isolation(string driver) => new("isolation", driver);

    public void Dispose() => Meter.Dispose();

    private static IEnumerable<Measurement<long>> Observe(Func<IEnumerable<KeyValuePair<string, int>>>? source) =>
        source is null ? [] : source().Select(p => new Measurement<long>(p.Value, Function(p.Key)));
}
