using System.Diagnostics.Metrics;
using Tern.Core.Telemetry;

namespace Tern.Drivers.Microvm;

/// <summary>The microVM driver's instruments on the daemon's "Tern" meter: cold boot, snapshot restore and snapshot save
/// times (labelled with the accelerator), and which accelerator VMs run under.</summary>
internal sealed class MicrovmMetrics
{
    private static readonly double[] Buckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60];

    public MicrovmMetrics(TernMetrics? metrics, Func<string?> accelerator)
    {
        if (metrics is null) return;
        Boot = metrics.Meter.CreateHistogram("tern_microvm_boot_seconds", "s", "Cold boot of a microVM: launch until its agent answers.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
        Restore = metrics.Meter.CreateHistogram("tern_microvm_restore_seconds", "s", "Restore of a microVM from a snapshot until its agent answers.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
        Save = metrics.Meter.CreateHistogram("tern_microvm_snapshot_save_seconds", "s", "Saving a microVM snapshot.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
        metrics.Meter.CreateObservableGauge("tern_microvm_accelerator_info", () => accelerator() is { } a
                ? [new Measurement<int>(1, new KeyValuePair<string, object?>("accelerator", a))]
                : Array.Empty<Measurement<int>>(),
            description: "1 for the accelerator microVMs run under (kvm or tcg), once the first one started.");
    }

    public Histogram<double>? Boot { get; }
    public Histogram<double>? Restore { get; }
    public Histogram<double>? Save { get; }

    public static KeyValuePair<string, object?> Accelerator(string name) => new("accelerator", name);
}
