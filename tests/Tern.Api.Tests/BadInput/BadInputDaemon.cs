using System.Diagnostics;
using Tern.Testing;

namespace Tern.Api.Tests.BadInput;

/// <summary>A real daemon process (`tern daemon`, auth off) prepared by <see cref="BadInputSetup"/>, shared by the
/// families of one class. A separate process, so a crash, a hang or a leaked exception shows as it would in
/// production, and nothing of the test host (its thread pool, its handlers) is shared with the daemon.</summary>
public class BadInputDaemon : IAsyncLifetime
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("tern-badinput-").FullName;
    private readonly List<BadInputReport> _reports = [];

    public DaemonProcess Daemon { get; private set; } = null!;
    public Uri BaseAddress => Daemon.BaseAddress;

    /// <summary>For setup and health checks: carries the admin key when auth is on.</summary>
    public HttpClient Client { get; private set; } = null!;

    public IReadOnlyList<ApiOperation> Operations { get; private set; } = [];
    public RouteValues Values { get; private set; } = null!;
    public BadInputRunner Runner { get; private set; } = null!;

    /// <summary>The admin key the daemon printed at its first start; null with auth off.</summary>
    public string? AdminKey { get; private set; }

    protected virtual bool AuthOn => false;

    public async Task InitializeAsync()
    {
        Daemon = await DaemonProcess.StartAsync(_dataDir, new Dictionary<string, string>
        {
            ["TERN_AUTH"] = AuthOn ? "on" : "off",
            // Never export telemetry from a test, whatever the environment says.
            ["TERN_OTLP_ENDPOINT"] = "", ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "",
        });
        Client = BadInputRunner.CreateClient(BaseAddress);
        Client.Timeout = TimeSpan.FromSeconds(60);
        if (AuthOn)
        {
            AdminKey = await BootstrapKeyAsync(Daemon);
            Client.DefaultRequestHeaders.Add("X-API-Key", AdminKey);
        }
        (Operations, Values) = await BadInputSetup.PrepareAsync(Client);
        Runner = new BadInputRunner(BaseAddress, Client);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Daemon.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A generator context with its own seed, so each family's cases do not depend on which ran first.</summary>
    public CaseContext Context(int seed) => new(Operations, Values, BadInputSetup.ValidBodies, seed);

    /// <summary>Totals over the families run so far in this class (each test prints them, so the last one run shows all).</summary>
    public string Record(BadInputReport report)
    {
        lock (_reports)
        {
            _reports.Add(report);
            var outcomes = _reports.SelectMany(r => r.Outcomes).ToList();
            var statuses = string.Join(", ", outcomes.GroupBy(o => o.Status).OrderBy(g => g.Key)
                .Select(g => $"{(g.Key == 0 ? "no response" : g.Key)}: {g.Count()}"));
            return $"so far ({_reports.Count} families): {outcomes.Count} requests; statuses {statuses}";
        }
    }

    /// <summary>The report's violations, and the daemon's last output lines (where an unexpected exception is logged
    /// with its stack) when there are any.</summary>
    public string Describe(BadInputReport report) =>
        report.Violations.Count == 0 ? report.Describe() : report.Describe() + "the daemon's last output:\n" + Daemon.RecentOutput;

    /// <summary>The key is printed on stdout only (the line after the announcement), before the daemon is ready;
    /// the output is read asynchronously, so it may arrive a moment after readiness.</summary>
    private static async Task<string> BootstrapKeyAsync(DaemonProcess daemon)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            var lines = daemon.RecentOutput.Split('\n');
            var announcement = Array.FindIndex(lines, l => l.StartsWith("tern: auth is on", StringComparison.Ordinal));
            if (announcement >= 0 && announcement + 1 < lines.Length) return lines[announcement + 1].Trim();
            await Task.Delay(50);
        }
        throw new InvalidOperationException("the daemon printed no bootstrap key:\n" + daemon.RecentOutput);
    }
}

/// <summary>The same with auth on: setup and <see cref="BadInputDaemon.Runner"/> use the admin key.</summary>
public sealed class AuthBadInputDaemon : BadInputDaemon
{
    protected override bool AuthOn => true;
}
