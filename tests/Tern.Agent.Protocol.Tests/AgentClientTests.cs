using Tern.Json;
using System.Diagnostics;
using System.Text.Json;

namespace Tern.Agent.Protocol.Tests;

public sealed class AgentClientTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private SocketPair _pair = null!;
    private AgentChannel _agent = null!;
    private AgentClient _client = null!;

    public async Task InitializeAsync()
    {
        _pair = await SocketPair.CreateAsync();
        _agent = new AgentChannel(_pair.Agent);
        _client = new AgentClient(_pair.Host);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _pair.DisposeAsync();
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(Patience).Token;

    private static ExecMessage Exec(string id) => new()
    {
        RequestId = id, Input = RawJson.Parse($$"""{"id":"{{id}}"}"""), TimeoutMs = 1000,
    };

    private static RespMessage Answer(string id) => new()
    {
        RequestId = id, Output = RawJson.Parse($$"""{"answer":"{{id}}"}"""), DurationMs = 1,
    };

    private async Task<T> AgentReadsAsync<T>() where T : AgentMessage =>
        Assert.IsType<T>(await _agent.ReadAsync(Timeout()));

    [Fact]
    public async Task ExecAsync_AnsweredOutOfOrder_EachCallerGetsItsOwnResponse()
    {
        var a = _client.ExecAsync(Exec("a"), Patience, Timeout());
        var b = _client.ExecAsync(Exec("b"), Patience, Timeout());
        var received = new[] { await AgentReadsAsync<ExecMessage>(), await AgentReadsAsync<ExecMessage>() };
        Assert.Equal(["a", "b"], received.Select(m => m.RequestId).Order());
        Assert.All(received, m => Assert.Equal(m.RequestId, m.Input.ToElement().GetProperty("id").GetString()));

        await _agent.WriteAsync(Answer("b"), Timeout());
        var respB = await b.WaitAsync(Patience);
        Assert.False(a.IsCompleted, "a must still wait for its own answer");
        await _agent.WriteAsync(Answer("a"), Timeout());
        var respA = await a.WaitAsync(Patience);

        Assert.Equal("a", respA.RequestId);
        Assert.Equal("a", respA.Output?.ToElement().GetProperty("answer").GetString());
        Assert.Equal("b", respB.RequestId);
        Assert.Equal("b", respB.Output?.ToElement().GetProperty("answer").GetString());
    }

    [Fact]
    public async Task ExecAsync_AnswerForUnknownRequestId_IsIgnored()
    {
        var a = _client.ExecAsync(Exec("a"), Patience, Timeout());
        await AgentReadsAsync<ExecMessage>();

        await _agent.WriteAsync(Answer("nobody"), Timeout());
        await _agent.WriteAsync(new PingMessage { RequestId = "a" }, Timeout()); // not a Resp: ignored too
        await _agent.WriteAsync(Answer("a"), Timeout());

        Assert.Equal("a", (await a.WaitAsync(Patience)).Output?.ToElement().GetProperty("answer").GetString());
        Assert.False(_client.Completion.IsCompleted);
    }

    [Fact]
    public async Task ExecAsync_NoAnswer_ThrowsTimeoutWithinTheTimeout()
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        var watch = Stopwatch.StartNew();

        var call = _client.ExecAsync(Exec("silent"), timeout, Timeout());
        await AgentReadsAsync<ExecMessage>();
        await Assert.ThrowsAsync<TimeoutException>(() => call);

        Assert.InRange(watch.Elapsed, timeout - TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5));
        Assert.False(_client.Completion.IsCompleted, "a timeout must not take the connection down");
    }

    [Fact]
    public async Task ExecAsync_AfterTimeout_RequestIdCanBeReusedAndLateAnswerIsDropped()
    {
        await Assert.ThrowsAsync<TimeoutException>(() => _client.ExecAsync(Exec("r"), TimeSpan.FromMilliseconds(100), Timeout()));
        await AgentReadsAsync<ExecMessage>();
        await _agent.WriteAsync(new RespMessage { RequestId = "r", Status = "late" }, Timeout());
        // Barrier: the client reads frames in order, so once this ping is answered the late Resp has been handled.
        var ping = _client.PingAsync(Patience, Timeout());
        await _agent.WriteAsync(new RespMessage { RequestId = (await AgentReadsAsync<PingMessage>()).RequestId }, Timeout());
        await ping.WaitAsync(Patience);

        var again = _client.ExecAsync(Exec("r"), Patience, Timeout());
        await AgentReadsAsync<ExecMessage>();
        await _agent.WriteAsync(new RespMessage { RequestId = "r", Status = "fresh" }, Timeout());

        Assert.Equal("fresh", (await again.WaitAsync(Patience)).Status);
    }

    [Fact]
    public async Task ExecAsync_SameRequestIdAlreadyInFlight_ThrowsInvalidOperation()
    {
        var first = _client.ExecAsync(Exec("same"), Patience, Timeout());

        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.ExecAsync(Exec("same"), Patience, Timeout()));

        await AgentReadsAsync<ExecMessage>();
        await _agent.WriteAsync(Answer("same"), Timeout());
        Assert.Equal("same", (await first.WaitAsync(Patience)).RequestId);
    }

    [Fact]
    public async Task ExecAsync_CallerCancels_ThrowsOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        var call = _client.ExecAsync(Exec("c"), Patience, cts.Token);
        await AgentReadsAsync<ExecMessage>();

        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Patience));
    }

    [Fact]
    public async Task ExecAsync_AgentClosesSocket_PendingCallFailsWithAgentLost()
    {
        var call = _client.ExecAsync(Exec("doomed"), Patience, Timeout());
        await AgentReadsAsync<ExecMessage>();

        await _pair.Agent.DisposeAsync();

        await Assert.ThrowsAsync<AgentLostException>(() => call.WaitAsync(Patience));
        await _client.Completion.WaitAsync(Patience);
    }

    [Fact]
    public async Task ExecAsync_AfterAgentClosed_ThrowsAgentLost()
    {
        await _pair.Agent.DisposeAsync();
        await _client.Completion.WaitAsync(Patience);

        await Assert.ThrowsAsync<AgentLostException>(() => _client.ExecAsync(Exec("late"), Patience, Timeout()).WaitAsync(Patience));
    }

    [Fact]
    public async Task ExecAsync_AgentSendsOversizeFrame_ConnectionSurvives()
    {
        await using var pair = await SocketPair.CreateAsync();
        var agent = new AgentChannel(pair.Agent);
        await using var client = new AgentClient(pair.Host, maxFrameBytes: 1024);

        var big = client.ExecAsync(Exec("big"), TimeSpan.FromMilliseconds(500), Timeout());
        Assert.IsType<ExecMessage>(await agent.ReadAsync(Timeout()));
        await agent.WriteAsync(new RespMessage { RequestId = "big", StdoutTail = new string('x', 4096) }, Timeout());
        await Assert.ThrowsAsync<TimeoutException>(() => big);

        var small = client.ExecAsync(Exec("small"), Patience, Timeout());
        Assert.IsType<ExecMessage>(await agent.ReadAsync(Timeout()));
        await agent.WriteAsync(Answer("small"), Timeout());

        Assert.Equal("small", (await small.WaitAsync(Patience)).RequestId);
        Assert.False(client.Completion.IsCompleted);
    }

    [Fact]
    public async Task InitAsync_AgentAnswersSuccess_Completes()
    {
        var init = _client.InitAsync(new InitMessage { Runtime = "python", Handler = "main.py", FunctionName = "f", Revision = 2 }, Patience, Timeout());
        var received = await AgentReadsAsync<InitMessage>();
        await _agent.WriteAsync(new RespMessage { RequestId = "init", Status = "success" }, Timeout());

        await init.WaitAsync(Patience);
        Assert.Equal("f", received.FunctionName);
        Assert.Equal(2, received.Revision);
    }

    [Fact]
    public async Task InitAsync_AgentAnswersError_ReturnsTheErrorForTheCallerToReport()
    {
        var init = _client.InitAsync(new InitMessage { Runtime = "python" }, Patience, Timeout());
        await AgentReadsAsync<InitMessage>();
        await _agent.WriteAsync(new RespMessage
        {
            RequestId = "init", Status = "error", Error = new AgentError { Code = "HandlerLoadFailed", Message = "handler not found" },
        }, Timeout());

        var resp = await init.WaitAsync(Patience);

        Assert.Equal("error", resp.Status);
        Assert.Equal("HandlerLoadFailed", resp.Error?.Code);
        Assert.Contains("handler not found", resp.Error?.Message);
    }

    [Fact]
    public async Task PingAsync_AgentEchoesRequestId_ReturnsItsResp()
    {
        var ping = _client.PingAsync(Patience, Timeout());
        var received = await AgentReadsAsync<PingMessage>();
        await _agent.WriteAsync(new RespMessage { RequestId = received.RequestId, Status = "success", DurationMs = 0.25 }, Timeout());

        var resp = await ping.WaitAsync(Patience);

        Assert.StartsWith("ping-", received.RequestId);
        Assert.Equal(received.RequestId, resp.RequestId);
        Assert.Equal(0.25, resp.DurationMs);
    }

    [Fact]
    public async Task PingAsync_TwoPings_UseDistinctRequestIds()
    {
        var p1 = _client.PingAsync(Patience, Timeout());
        var p2 = _client.PingAsync(Patience, Timeout());
        var r1 = await AgentReadsAsync<PingMessage>();
        var r2 = await AgentReadsAsync<PingMessage>();

        Assert.NotEqual(r1.RequestId, r2.RequestId);
        foreach (var r in new[] { r2, r1 }) await _agent.WriteAsync(new RespMessage { RequestId = r.RequestId }, Timeout());
        Assert.NotEqual((await p1.WaitAsync(Patience)).RequestId, (await p2.WaitAsync(Patience)).RequestId);
    }

    [Fact]
    public async Task DisposeAsync_ConnectionOpen_SendsStopAndCompletes()
    {
        await using var pair = await SocketPair.CreateAsync();
        var agent = new AgentChannel(pair.Agent);
        var client = new AgentClient(pair.Host);

        await client.DisposeAsync();

        Assert.IsType<StopMessage>(await agent.ReadAsync(Timeout()));
        Assert.True(client.Completion.IsCompleted);
    }

    // Known src bug: the second call hits _closing.Cancel() on an already disposed CancellationTokenSource.
    [Fact]
    public async Task DisposeAsync_CalledTwice_DoesNotThrow()
    {
        await using var pair = await SocketPair.CreateAsync();
        var client = new AgentClient(pair.Host);

        await client.DisposeAsync();
        var second = await Record.ExceptionAsync(() => client.DisposeAsync().AsTask());

        Assert.Null(second);
    }

    [Theory]
    [InlineData("""{"type":"dance"}""")]
    [InlineData("""{"type":"resp","requestId":""")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public async Task ExecAsync_AgentSendsUndecodableFrame_PendingCallFailsWithAgentLost(string json)
    {
        var call = _client.ExecAsync(Exec("a"), Patience, Timeout());
        await AgentReadsAsync<ExecMessage>();

        await _pair.Agent.WriteAsync(RawFrame(json), Timeout());

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<AgentLostException>(() => call.WaitAsync(Patience));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "the call must fail when the frame arrives, not at its timeout");
        await _client.Completion.WaitAsync(Patience);
    }

    // Frames without a type discriminator ({} and null) break the connection: every waiting call fails at once
    // with AgentLostException (not after its timeout), and the read loop ends without faulting.
    [Theory]
    [InlineData("{}")]
    [InlineData("null")]
    public async Task ExecAsync_AgentSendsFrameWithoutDiscriminator_PendingCallFailsWithAgentLost(string json)
    {
        var call = _client.ExecAsync(Exec("a"), TimeSpan.FromSeconds(3), Timeout());
        await AgentReadsAsync<ExecMessage>();

        await _pair.Agent.WriteAsync(RawFrame(json), Timeout());

        await Assert.ThrowsAsync<AgentLostException>(() => call);
        await _client.Completion.WaitAsync(Patience); // must not fault
    }

    // An agent not written in .NET may put "type" anywhere in the object.
    [Fact]
    public async Task ExecAsync_AgentSendsTypeAfterOtherProperties_IsStillMatched()
    {
        var call = _client.ExecAsync(Exec("a"), TimeSpan.FromSeconds(3), Timeout());
        await AgentReadsAsync<ExecMessage>();

        await _pair.Agent.WriteAsync(RawFrame("""{"requestId":"a","status":"success","type":"resp"}"""), Timeout());

        Assert.Equal("success", (await call).Status);
    }

    private static byte[] RawFrame(string json)
    {
        var payload = System.Text.Encoding.UTF8.GetBytes(json);
        var frame = new byte[4 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }
}
