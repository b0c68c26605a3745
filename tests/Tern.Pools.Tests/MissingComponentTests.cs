using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tern.Drivers.Sandbox;
using Tern.Testing;

namespace Tern.Pools.Tests;

/// <summary>A daemon started without bubblewrap (as a user who skipped the install script): it must not spin, flood
/// its log or ignore SIGTERM; readiness says what is missing and how to install it; calls get a clear 503.</summary>
public sealed class MissingComponentTests : IClassFixture<MissingComponentTests.NoBubblewrapDaemon>
{
    private readonly NoBubblewrapDaemon _daemon;

    public MissingComponentTests(NoBubblewrapDaemon daemon) => _daemon = daemon;

    public sealed class NoBubblewrapDaemon : DaemonFixture
    {
        public ConcurrentQueue<string> Warnings { get; } = new();

        public override Task InitializeAsync() => StartAsync(services =>
        {
            services.Configure<SandboxOptions>(o => o.BubblewrapPath = "/nonexistent/bwrap");
            services.AddSingleton<ILoggerProvider>(new Collecting(Warnings));
        });
    }

    [Fact]
    public async Task Ready_Is503_NamingBubblewrapAndTheCommandThatInstallsIt()
    {
        using var response = await _daemon.Client.GetAsync("/healthz/ready");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("not ready", (string?)body["status"]);
        Assert.Equal("ok", (string?)body["checks"]!["store"]);
        var sandbox = (string?)body["checks"]!["sandbox"];
        Assert.Contains("bubblewrap", sandbox);
        Assert.Contains("apt-get install -y bubblewrap", sandbox);
    }

    [Fact]
    public async Task Spares_BackOff_AndTheFailureIsLoggedOnce()
    {
        var templates = _daemon.Services.GetRequiredService<WorkerTemplates>();
        await Task.Delay(TimeSpan.FromSeconds(4));
        // Two spares tried at start, then one after ~1 s, ~2 s (each ±20%): a handful, where the old loop made millions.
        Assert.InRange(templates.Attempts, 1, 6);
        Assert.Single(_daemon.Warnings, w => w.Contains("spare workers for driver sandbox cannot start"));
    }

    [Fact]
    public async Task Invoke_Is503Problem_SayingWhatIsMissing()
    {
        await _daemon.CreateOkAsync("no-bwrap", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py");
        var started = DateTime.UtcNow;
        using var response = await _daemon.Client.PostAsync("/v1/functions/no-bwrap:invoke", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("apt-get install -y bubblewrap", await response.Content.ReadAsStringAsync());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "the call must fail at once, not after retries");
    }

    [Fact]
    public async Task DaemonProcess_WithoutBubblewrap_StaysIdle_AndStopsPromptlyOnSigterm()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "tern-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var daemon = await DaemonProcess.StartAsync(dataDir, new Dictionary<string, string> { ["TERN_BUBBLEWRAP"] = "/nonexistent/bwrap" },
                expectReady: false);
            using var client = new HttpClient { BaseAddress = daemon.BaseAddress };
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/healthz/ready")).StatusCode);
            await Task.Delay(TimeSpan.FromSeconds(1)); // past start-up
            var cpuBefore = daemon.CpuTime;
            await Task.Delay(TimeSpan.FromSeconds(4));
            var cpu = daemon.CpuTime - cpuBefore;
            Assert.True(cpu < TimeSpan.FromSeconds(0.8), $"an idle daemon missing bubblewrap used {cpu.TotalSeconds:0.00} s of CPU in 4 s");
            Assert.True(daemon.Terminate(TimeSpan.FromSeconds(15)), "the daemon did not stop within 15 s of SIGTERM:\n" + daemon.RecentOutput);
            var lines = daemon.RecentOutput.Split('\n').Count(l => l.Contains("cannot start"));
            Assert.True(lines <= 1, $"{lines} log lines about the same failure:\n{daemon.RecentOutput}");
        }
        finally
        {
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    private sealed class Collecting(ConcurrentQueue<string> into) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) into.Enqueue(formatter(state, exception));
        }
        public void Dispose() { }
    }
}
