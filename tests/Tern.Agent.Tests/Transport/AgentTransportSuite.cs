using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Tern.Agent.Protocol;
using Tern.Json;

namespace Tern.Agent.Tests.Transport;

/// <summary>The agent protocol over one transport, against the real agent binary run as a host process. Written once;
/// each transport's class says only how the agent is started and how the host obtains its stream.
/// <para>Without a sandbox there is no /code, so no handler runs: an Exec is answered by the agent itself
/// (NotInitialized before Init; UnknownRuntime after an Init naming a runtime it does not know, its message quoting the
/// runtime). That is the whole of the transport's part of a call, a frame in and an answer out, from the frame-reading
/// thread to the answer writers on pool threads; the mode runners have tests of their own.</para></summary>
public abstract class AgentTransportSuite : IAsyncLifetime
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private const int MaxFrame = AgentChannel.DefaultMaxFrameBytes;
    private const string NoRuntime = "no-such-runtime";

    // Short, because a Unix socket path holds at most 107 bytes.
    private readonly string _dir = Path.Combine("/tmp", "tern-tt-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private AgentProcess? _agent;
    private AgentClient? _client;

    protected AgentProcess Agent => _agent ?? throw new InvalidOperationException("no agent started");
    private AgentClient Client => _client!;
    private CancellationToken Ct => _timeout.Token;

    /// <summary>Starts the agent (with <see cref="StartAgent"/>) on this transport and returns the host's stream to it.</summary>
    protected abstract Task<Stream> ConnectAsync(string dir, CancellationToken ct);

    protected AgentProcess StartAgent(string transport) => _agent = AgentProcess.Start(transport);

    /// <summary>Waits for the host's end to open, failing at once, with the agent's stderr, if the agent exits first.</summary>
    protected static async Task<Stream> WhileRunning(AgentProcess agent, Task<Stream> open)
    {
        if (await Task.WhenAny(open, agent.Exited) == open) return await open;
        throw new InvalidOperationException($"the agent exited with code {agent.ExitCode} before the host had its stream: {agent.Stderr}");
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        connect.CancelAfter(Patience);
        _client = new AgentClient(await ConnectAsync(_dir, connect.Token));
    }

    public async Task DisposeAsync()
    {
        // The agent goes first: a read on a pty master ends only when the agent's end of the terminal closes.
        if (_agent is not null) await _agent.DisposeAsync();
        if (_client is not null) await _client.DisposeAsync();
        _timeout.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Init_IsAnswered()
    {
        var resp = await Client.InitAsync(Init(), Patience, Ct);
        Assert.Equal("init", resp.RequestId);
        Assert.Equal("success", resp.Status);
    }

    [Fact]
    public async Task Exec_IsAnsweredWithItsRequestId_BeforeAndAfterInit()
    {
        var early = await Client.ExecAsync(Exec("early"), Patience, Ct);
        Assert.Equal(("early", "NotInitialized"), (early.RequestId, early.Error?.Code));

        await Client.InitAsync(Init(), Patience, Ct);
        var resp = await Client.ExecAsync(Exec("call-1"), Patience, Ct);
        Assert.Equal(("call-1", "error", "UnknownRuntime"), (resp.RequestId, resp.Status, resp.Error?.Code));
        Assert.Contains(NoRuntime, resp.Error!.Message);
    }

    [Fact]
    public async Task Ping_IsAnsweredBeforeAndAfterInit()
    {
        Assert.Equal("success", (await Client.PingAsync(Patience, Ct)).Status);
        await Client.InitAsync(Init(), Patience, Ct);
        Assert.Equal("success", (await Client.PingAsync(Patience, Ct)).Status);
    }

    [Fact]
    public async Task Stop_EndsTheAgent_WithExitCodeZero()
    {
        await Client.InitAsync(Init(), Patience, Ct);
        await Client.DisposeAsync(); // sends Stop
        _client = null;
        Assert.Equal(0, await Agent.WaitForExitAsync(Patience));
    }

    [Fact]
    public async Task FramesNearTheMaximumSize_TravelBothWays()
    {
        // The Init frame carries the long runtime name in; every answer after it quotes the name back out.
        var runtime = new string('r', MaxFrame - 1024);
        var init = Init(runtime);
        Assert.InRange(FrameBytes(init), MaxFrame - 1024, MaxFrame);
        Assert.Equal("success", (await Client.InitAsync(init, Patience, Ct)).Status);

        var exec = Exec("big", RawJson.Parse("\"" + new string('e', MaxFrame - 1024) + "\""));
        Assert.InRange(FrameBytes(exec), MaxFrame - 1024, MaxFrame);
        var resp = await Client.ExecAsync(exec, Patience, Ct);

        Assert.Equal(("big", "UnknownRuntime"), (resp.RequestId, resp.Error?.Code));
        Assert.Contains(runtime, resp.Error!.Message);
        Assert.InRange(FrameBytes(resp), MaxFrame - 1024, MaxFrame);
    }

    [Fact]
    public async Task AFrameOverTheAgentsLimit_IsSkipped_AndTheStreamStaysInStep()
    {
        await Client.InitAsync(Init(maxMessageBytes: 64 * 1024), Patience, Ct);
        var skipped = Client.ExecAsync(Exec("too-big", Text(100 * 1024)), TimeSpan.FromMilliseconds(500), Ct);
        await Assert.ThrowsAsync<TimeoutException>(() => skipped);

        var after = await Client.ExecAsync(Exec("after", Text(60 * 1024)), Patience, Ct);
        Assert.Equal(("after", "UnknownRuntime"), (after.RequestId, after.Error?.Code));
    }

    [Fact]
    public async Task ConcurrentCalls_EachGetTheirOwnAnswer()
    {
        await Client.InitAsync(Init(concurrency: 16), Patience, Ct);
        // Sizes differ so that frames straddle reads and answers come back out of order.
        var ids = Enumerable.Range(0, 32).Select(i => $"call-{i}").ToList();
        var calls = ids.Select((id, i) => Task.Run(() => Client.ExecAsync(Exec(id, Text(i * 3000)), Patience, Ct))).ToList();
        var pings = Enumerable.Range(0, 8).Select(_ => Task.Run(() => Client.PingAsync(Patience, Ct))).ToList();

        var answers = await Task.WhenAll(calls);
        Assert.Equal(ids, answers.Select(a => a.RequestId));
        Assert.All(answers, a => Assert.Equal("UnknownRuntime", a.Error?.Code));
        Assert.All(await Task.WhenAll(pings), p => Assert.Equal("success", p.Status));
    }

    [Fact]
    public async Task TheAgentExitingMidCall_FailsTheCallAtOnce()
    {
        await Client.InitAsync(Init(maxMessageBytes: 64 * 1024), Patience, Ct);
        // A frame over the agent's limit is read and dropped without an answer: a call the agent has taken and will
        // never answer. The Ping behind it, answered, shows the agent has read past it.
        var pending = Client.ExecAsync(Exec("never", Text(100 * 1024)), TimeSpan.FromMinutes(5), Ct);
        await Client.PingAsync(Patience, Ct);
        Assert.False(pending.IsCompleted);

        var sinceKill = Stopwatch.StartNew();
        Agent.Kill();
        await Assert.ThrowsAsync<AgentLostException>(() => pending.WaitAsync(Patience));
        Assert.True(sinceKill.Elapsed < TimeSpan.FromSeconds(5), $"the call failed only after {sinceKill.Elapsed}");
        await Client.Completion.WaitAsync(Patience);
    }

    private static InitMessage Init(string runtime = NoRuntime, int maxMessageBytes = MaxFrame, int concurrency = 1) => new()
    {
        Runtime = runtime, Handler = "main", FunctionName = "transport-suite", Revision = 1, MemoryMb = 128,
        TimeoutMs = 10_000, InstanceConcurrency = concurrency, MaxMessageBytes = maxMessageBytes,
    };

    private static ExecMessage Exec(string id, RawJson? input = null) =>
        new() { RequestId = id, Input = input ?? RawJson.EmptyObject, TimeoutMs = 10_000 };

    /// <summary>A JSON string event of about <paramref name="bytes"/> bytes.</summary>
    private static RawJson Text(int bytes) => RawJson.Parse("\"" + new string('x', bytes) + "\"");

    private static int FrameBytes(AgentMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer);
        AgentFrameCodec.Encode(writer, message);
        return buffer.WrittenCount;
    }
}
