using Tern.Agent.Protocol;
using Tern.Agent.Tests.Transport;
using Tern.Drivers.Transport;

namespace Tern.Agent.Tests;

/// <summary>The clock capability outside a VM, with the real agent binary as a host process that drops root to uid
/// 65534 (the tests run as root). Only a microVM guest's init sets TERN_AGENT_CLOCK=1; an agent without it keeps no
/// capability and refuses a Clock message, so no other driver's agent can touch the host's clock. No Clock message is
/// ever accepted here: it would step the test machine's clock.</summary>
public sealed class GuestClockTests : IAsyncLifetime
{
    private const long CapSysTime = 1L << 25;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private readonly string _dir = Path.Combine("/tmp", "tern-gc-" + Guid.NewGuid().ToString("N")[..8]);

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private async Task<(AgentProcess Agent, AgentChannel Channel)> StartAsync(bool keepClock)
    {
        using var endpoint = AgentEndpoint.ListenUnix(Path.Combine(_dir, $"a{(keepClock ? 1 : 0)}.sock"));
        // The agent dials after it dropped root: uid 65534 must reach the socket.
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(endpoint.Path, (UnixFileMode)0b110_110_110);
        var settings = new Dictionary<string, string>
        {
            ["TERN_AGENT_TRANSPORT"] = "unix:" + endpoint.Path, ["TERN_AGENT_UID"] = "65534", ["TERN_AGENT_GID"] = "65534",
        };
        if (keepClock) settings["TERN_AGENT_CLOCK"] = "1";
        var agent = AgentProcess.Start(settings);
        using var limit = new CancellationTokenSource(Patience);
        var open = endpoint.OpenAsync(limit.Token);
        if (await Task.WhenAny(open, agent.Exited) != open)
            throw new InvalidOperationException($"the agent exited with code {agent.ExitCode}: {agent.Stderr}");
        return (agent, new AgentChannel(await open));
    }

    /// <summary>CapPrm and CapEff of each thread of <paramref name="pid"/>, by thread id.</summary>
    private static Dictionary<int, (long Permitted, long Effective)> ThreadCapabilities(int pid) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task").ToDictionary(t => int.Parse(Path.GetFileName(t)), t =>
        {
            var lines = File.ReadAllLines(Path.Combine(t, "status"));
            long Field(string name) => Convert.ToInt64(lines.First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim(), 16);
            return (Field("CapPrm"), Field("CapEff"));
        });

    [Fact]
    public async Task AnAgentNotStartedToKeepTheClock_HoldsNoCapability_AndRefusesAClockMessage()
    {
        var (agent, channel) = await StartAsync(keepClock: false);
        await using (agent)
        await using (channel)
        {
            await channel.WriteAsync(new PingMessage { RequestId = "up" }, CancellationToken.None);
            Assert.IsType<RespMessage>(await channel.ReadAsync(CancellationToken.None));
            Assert.All(ThreadCapabilities(agent.Pid).Values, caps => Assert.Equal((0L, 0L), caps));

            // The host's own time, so that even a wrongly accepted message would not move the clock measurably.
            await channel.WriteAsync(new ClockMessage { RequestId = "c", UnixTimeNs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100 },
                CancellationToken.None);
            var answer = Assert.IsType<RespMessage>(await channel.ReadAsync(CancellationToken.None));
            Assert.Equal(("c", "error", "ClockNotKept"), (answer.RequestId, answer.Status, answer.Error?.Code));
        }
    }

    [Fact]
    public async Task AGuestAgent_KeepsOnlyCapSysTime_PermittedOnItsMainThread_AndEffectiveNowhere()
    {
        var (agent, channel) = await StartAsync(keepClock: true);
        await using (agent)
        await using (channel)
        {
            await channel.WriteAsync(new PingMessage { RequestId = "up" }, CancellationToken.None);
            Assert.IsType<RespMessage>(await channel.ReadAsync(CancellationToken.None));
            var threads = ThreadCapabilities(agent.Pid);
            Assert.True(threads.Count > 1); // the runtime's threads, which lost everything in the uid change
            Assert.Equal((CapSysTime, 0L), threads[agent.Pid]);
            foreach (var caps in threads.Values) // threads the main thread started after the drop inherit its permitted bit
            {
                Assert.Equal(0L, caps.Effective);
                Assert.Equal(0L, caps.Permitted & ~CapSysTime);
            }
            var status = File.ReadAllLines($"/proc/{agent.Pid}/status");
            Assert.Contains(status, l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries).Skip(1).All(v => v == "65534"));
        }
    }
}
