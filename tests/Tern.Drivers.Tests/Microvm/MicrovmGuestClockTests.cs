using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tern.Agent.Protocol;
using Tern.Core.Code;
using Tern.Drivers.Microvm;
using Tern.Json;
using Xunit.Abstractions;

namespace Tern.Drivers.Tests.Microvm;

/// <summary>A VM restored from a snapshot taken seconds earlier must run with the host's wall clock, not the snapshot's;
/// the agent sets it with the one capability it keeps (CAP_SYS_TIME, on its main thread, permitted but not effective),
/// which its handlers never get. Real QEMU (TCG here), the real image and agent, a persistent Python handler.</summary>
[Trait("Category", "microvm")]
public sealed class MicrovmGuestClockTests : IClassFixture<GuestImageFixture>, IDisposable
{
    private const long CapSysTime = 1L << 25;
    private static readonly TimeSpan SnapshotAge = TimeSpan.FromSeconds(4);

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tern-mvc-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly LocalCodeSource _code = new();
    private readonly ITestOutputHelper _output;

    public MicrovmGuestClockTests(GuestImageFixture image, ITestOutputHelper output)
    {
        _ = image;
        _output = output;
        Directory.CreateDirectory(Path.Combine(_dir, "code"));
        File.WriteAllText(Path.Combine(_dir, "code", "main.py"), Handler);
    }

    /// <summary>Returns the guest's clocks, the capabilities of the handler and of every thread of PID 1 (the agent), and
    /// what happens when the handler tries to set the clock itself; sleeps when asked (for the timeout check).</summary>
    private const string Handler = """
        import os, time
        def caps(path):
            fields = {}
            for line in open(path):
                key, _, value = line.partition(":")
                if key in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
                    fields[key] = int(value.strip(), 16)
            return fields
        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            try:
                time.clock_settime(time.CLOCK_REALTIME, time.time())
                set_clock = "allowed"
            except OSError as e:
                set_clock = e.errno
            return {"realtime": time.time(), "monotonic": time.monotonic(), "self": caps("/proc/self/status"),
                    "agent": {tid: caps(f"/proc/1/task/{tid}/status") for tid in os.listdir("/proc/1/task")},
                    "setClock": set_clock}
        """;

    [Fact]
    public async Task RestoredGuest_HasTheHostsWallClock_AndOnlyTheAgentsMainThreadMaySetIt()
    {
        var driver = new MicrovmDriver(Options.Create(new MicrovmOptions
        {
            ImagesDir = GuestImageFixture.SharedImagesDir, StateDir = Path.Combine(_dir, "m"),
        }), NullLogger<MicrovmDriver>.Instance, codeSource: _code);
        WorkerSpec Spec() => new()
        {
            WorkerId = Guid.NewGuid().ToString("N"), FunctionName = "clock", Runtime = "python",
            Code = _code.Add(Path.Combine(_dir, "code")), Limits = new WorkerLimits(MemoryMb: 128, Vcpus: 1),
        };

        var booted = (MicrovmWorker)await driver.StartWorkerAsync(Spec(), CancellationToken.None); // boots, saves the snapshot
        await booted.KillAsync();
        Assert.Single(driver.List("clock"));
        await Task.Delay(SnapshotAge); // the snapshot's clock is now this far behind the host's

        var restored = (MicrovmWorker)await driver.StartWorkerAsync(Spec(), CancellationToken.None);
        try
        {
            Assert.True(restored.Restored);
            _output.WriteLine($"clock set on restore: stepped {restored.Clock?.StepMs:0.0} ms, last round trip {restored.Clock?.RoundTripMs:0.00} ms in {restored.Clock?.Rounds} steps");
            Assert.True(restored.Clock!.StepMs > SnapshotAge.TotalMilliseconds, "the restored guest's clock was not behind by the snapshot's age");
            await using var agent = new AgentClient(restored.Stream);
            var init = await agent.InitAsync(new InitMessage
            {
                Runtime = "python", Handler = "main.handler", Mode = "persistent", MemoryMb = 128, TimeoutMs = 60_000,
            }, TimeSpan.FromSeconds(60), CancellationToken.None);
            Assert.True(init.Status == "success", init.Error?.Message);

            // The wall clock: the guest's reading lies between the host's just before and just after the call.
            var (first, before, after) = await CallAsync(agent, "1");
            var guest = first.GetProperty("realtime").GetDouble();
            _output.WriteLine($"guest realtime - host: {(guest - before) * 1000:0.0} ms after the call was sent, {(after - guest) * 1000:0.0} ms before it was answered");
            const double Tolerance = 0.025; // seconds: the channel's one-way delay and TSC drift, with room for a loaded machine
            Assert.InRange(guest, before - Tolerance, after + Tolerance);

            // Monotonic time is untouched by the step and runs at the host's pace: the agent's timers are sane. Each guest
            // reading lies within its call's host window, so the guest's interval lies between the windows' inner and
            // outer spans (a slow answer under TCG moves a reading within its window, not outside it).
            await Task.Delay(1000);
            var (second, before2, after2) = await CallAsync(agent, "2");
            var monotonicSeconds = second.GetProperty("monotonic").GetDouble() - first.GetProperty("monotonic").GetDouble();
            var realtimeSeconds = second.GetProperty("realtime").GetDouble() - guest;
            var (shortest, longest) = (before2 - after, after2 - before);
            _output.WriteLine($"host between the readings {shortest:0.000}-{longest:0.000} s, guest monotonic {monotonicSeconds:0.000} s, guest realtime {realtimeSeconds:0.000} s");
            Assert.InRange(monotonicSeconds, shortest - Tolerance, longest + Tolerance);
            Assert.InRange(realtimeSeconds, shortest - Tolerance, longest + Tolerance);

            // The handler has no capability and cannot set the clock; of the agent's threads only the main one (tid 1)
            // holds CAP_SYS_TIME, permitted and not effective, and no thread holds anything else.
            Assert.Equal(0, first.GetProperty("self").GetProperty("CapEff").GetInt64());
            Assert.Equal(0, first.GetProperty("self").GetProperty("CapPrm").GetInt64());
            Assert.Equal(1, first.GetProperty("setClock").GetInt32()); // EPERM
            var threads = first.GetProperty("agent").EnumerateObject().ToDictionary(t => t.Name, t => t.Value);
            Assert.Equal(CapSysTime, threads["1"].GetProperty("CapPrm").GetInt64());
            foreach (var (tid, caps) in threads)
            {
                Assert.True(caps.GetProperty("CapEff").GetInt64() == 0, $"agent thread {tid} has effective capabilities");
                Assert.True((caps.GetProperty("CapPrm").GetInt64() & ~CapSysTime) == 0, $"agent thread {tid} holds more than CAP_SYS_TIME");
                Assert.Equal(0, caps.GetProperty("CapAmb").GetInt64());
            }

            // A call's timeout is still kept by the agent's monotonic timers after the clock jumped.
            var timed = Stopwatch.StartNew();
            var timeout = await agent.ExecAsync(new ExecMessage { RequestId = "3", Input = RawJson.Parse("""{"sleep": 10}"""), TimeoutMs = 1000 },
                TimeSpan.FromSeconds(30), CancellationToken.None);
            Assert.Equal("timeout", timeout.Status);
            Assert.InRange(timed.Elapsed.TotalSeconds, 0.9, 5);
        }
        finally
        {
            await restored.KillAsync();
        }
    }

    private static async Task<(JsonElement Output, double HostBefore, double HostAfter)> CallAsync(AgentClient agent, string id)
    {
        var before = UnixSeconds();
        var resp = await agent.ExecAsync(new ExecMessage { RequestId = id, Input = RawJson.Parse("{}"), TimeoutMs = 60_000 },
            TimeSpan.FromSeconds(60), CancellationToken.None);
        var after = UnixSeconds();
        Assert.True(resp.Status == "success", resp.Error?.Message + " " + resp.StderrTail);
        return (resp.Output!.Value.ToElement().Clone(), before, after);
    }

    private static double UnixSeconds() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
