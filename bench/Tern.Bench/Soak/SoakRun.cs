using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Tern.Bench.Soak;

/// <summary>The soak: a daemon with default settings takes the mixed load at 80% of the peak it showed just before, for
/// a set time, while its RSS, open fds, threads, sandboxes and cgroups are sampled. Then it is stopped with SIGTERM
/// and what it left behind is counted. Writes a CSV (one row per sample) and a Markdown summary.</summary>
public static class SoakRun
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(string ternDll, string goEcho, TimeSpan duration, string csvPath, string markdownPath, string command)
    {
        var cgroupsBefore = DaemonResources.CountCgroups();
        await using var daemon = await DaemonProcess.StartAsync(ternDll);
        foreach (var function in SoakMix.Functions(goEcho)) await daemon.CreateAsync(function);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = SoakLoad.Connections })
        {
            BaseAddress = daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(60),
        };
        var load = new SoakLoad(client);

        Console.WriteLine("soak: warm-up, then the peak with the same mix");
        await load.PeakAsync(TimeSpan.FromSeconds(20));
        var peak = await load.PeakAsync(TimeSpan.FromSeconds(20));
        var rate = peak * 0.8;
        Console.WriteLine($"soak: peak {peak:F0} calls/s; running at {rate:F0} calls/s for {duration.TotalMinutes:F0} min");

        var samples = new List<SoakSample>();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        load.TakeInterval();
        var running = load.RunAtAsync(rate, duration, stop.Token);
        var lastCpu = DaemonResources.Of(daemon.Pid, daemon.DataDir).CpuSeconds;
        while (!running.IsCompleted)
        {
            await Task.WhenAny(running, Task.Delay(SampleEvery));
            var interval = load.TakeInterval();
            var resources = DaemonResources.Of(daemon.Pid, daemon.DataDir);
            var elapsed = clock.Elapsed;
            var seconds = elapsed.TotalSeconds - (samples.Count == 0 ? 0 : samples[^1].ElapsedSeconds);
            samples.Add(new SoakSample(elapsed.TotalSeconds, resources, interval.Calls / seconds, interval.Errors, interval.PercentileMs(0.5),
                interval.PercentileMs(0.99), (resources.CpuSeconds - lastCpu) / seconds * 100, interval.Failures));
            lastCpu = resources.CpuSeconds;
            Console.WriteLine(samples[^1].ToCsv());
        }
        await running;

        // Stop as a service manager would, then count what is left.
        var stoppedInTime = await daemon.StopAsync(TimeSpan.FromSeconds(15));
        await Task.Delay(1000);
        var leftovers = new SoakLeftovers(stoppedInTime, DaemonResources.SandboxesNaming(daemon.DataDir),
            DaemonResources.CountWorkerDirs(daemon.DataDir),
            DaemonResources.CountCgroups() - cgroupsBefore);

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(csvPath))!);
        await File.WriteAllTextAsync(csvPath, SoakSample.CsvHeader + "\n" + string.Join("\n", samples.Select(s => s.ToCsv())) + "\n");
        var summary = new SoakSummary(samples, peak, rate, duration, leftovers);
        await File.WriteAllTextAsync(markdownPath, summary.ToMarkdown(command, Path.GetFileName(csvPath)));
        Console.WriteLine($"wrote {csvPath} and {markdownPath}");
        return summary.AllMet ? 0 : 1;
    }
}

/// <summary>One row of the CSV.</summary>
public sealed record SoakSample(double ElapsedSeconds, DaemonResources Resources, double CallsPerSecond, long Errors, double P50Ms,
    double P99Ms, double DaemonCpuPercent, IReadOnlyDictionary<int, long> Failures)
{
    public const string CsvHeader = "elapsed_s,rss_mb,fds,threads,sandboxes,worker_dirs,cgroups,calls_per_s,errors,p50_ms,p99_ms,daemon_cpu_pct";

    public string ToCsv() => string.Join(',',
        F(ElapsedSeconds, 1), F(Resources.RssMb, 1), Resources.Fds, Resources.Threads, Resources.Sandboxes, Resources.WorkerDirs, Resources.Cgroups,
        F(CallsPerSecond, 1), Errors, F(P50Ms, 2), F(P99Ms, 2), F(DaemonCpuPercent, 1));

    private static string F(double value, int digits) => value.ToString("F" + digits, CultureInfo.InvariantCulture);
}

/// <summary>What a stopped daemon left: sandboxes still running, worker directories, cgroups beyond those before it.</summary>
public sealed record SoakLeftovers(bool StoppedInTime, int Sandboxes, int WorkerDirs, int Cgroups)
{
    public bool None => StoppedInTime && Sandboxes == 0 && WorkerDirs == 0 && Cgroups <= 0;
}
