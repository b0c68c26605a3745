using Tern.Json;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Tern.Agent.Protocol.Tests;

public sealed class AgentChannelTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private SocketPair _pair = null!;
    private AgentChannel _host = null!;
    private AgentChannel _agent = null!;

    public async Task InitializeAsync()
    {
        _pair = await SocketPair.CreateAsync();
        _host = new AgentChannel(_pair.Host);
        _agent = new AgentChannel(_pair.Agent);
    }

    public Task DisposeAsync() => _pair.DisposeAsync().AsTask();

    private static CancellationToken Timeout() => new CancellationTokenSource(Patience).Token;

    private static byte[] Frame(string json) => Frame(Encoding.UTF8.GetBytes(json));

    private static byte[] Frame(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    private async Task<T> RoundTripAsync<T>(T message) where T : AgentMessage
    {
        await _host.WriteAsync(message, Timeout());
        var read = await _agent.ReadAsync(Timeout());
        return Assert.IsType<T>(read);
    }

    [Fact]
    public async Task WriteAsync_InitMessage_RoundTripsEveryField()
    {
        var read = await RoundTripAsync(new InitMessage
        {
            Runtime = "python", Handler = "src/main.py", Env = new() { ["A"] = "1", ["B"] = "two" },
            Mode = "persistent", FunctionName = "hello", Version = "4", Revision = 7, Region = "eu-west-3", MemoryMb = 512, TimeoutMs = 3000,
        });

        Assert.Equal("python", read.Runtime);
        Assert.Equal("src/main.py", read.Handler);
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "two" }, read.Env);
        Assert.Equal("persistent", read.Mode);
        Assert.Equal("hello", read.FunctionName);
        Assert.Equal("4", read.Version);
        Assert.Equal(7, read.Revision);
        Assert.Equal("eu-west-3", read.Region);
        Assert.Equal(512, read.MemoryMb);
        Assert.Equal(3000, read.TimeoutMs);
    }

    [Fact]
    public async Task WriteAsync_ExecMessageWithJsonObjectInput_RoundTripsEveryField()
    {
        using var input = JsonDocument.Parse("""{"name":"world","n":[1,2.5,-3],"nested":{"ok":true,"none":null},"s":"é\u0000\""}""");

        var read = await RoundTripAsync(new ExecMessage
        {
            RequestId = "req-1", Input = RawJson.FromElement(input.RootElement), TimeoutMs = 1234, TraceId = "trace-9",
        });

        Assert.Equal("req-1", read.RequestId);
        Assert.Equal(JsonValueKind.Object, read.Input.ToElement().ValueKind);
        Assert.True(JsonElement.DeepEquals(input.RootElement, read.Input.ToElement()), read.Input.ToString());
        Assert.Equal("world", read.Input.ToElement().GetProperty("name").GetString());
        Assert.Equal(1234, read.TimeoutMs);
        Assert.Equal("trace-9", read.TraceId);
    }

    [Fact]
    public async Task WriteAsync_ExecMessageWithoutTraceId_ReadsNullTraceId()
    {
        using var input = JsonDocument.Parse("42");

        var read = await RoundTripAsync(new ExecMessage { RequestId = "r", Input = RawJson.FromElement(input.RootElement) });

        Assert.Null(read.TraceId);
        Assert.Equal(42, read.Input.ToElement().GetInt32());
    }

    [Fact]
    public async Task WriteAsync_RespMessage_RoundTripsOutputErrorAndTails()
    {
        using var output = JsonDocument.Parse("""{"greeting":"hi","items":[1,2]}""");

        var read = await RoundTripAsync(new RespMessage
        {
            RequestId = "req-2", Status = "error", Output = RawJson.FromElement(output.RootElement),
            Error = new AgentError { Code = "HandlerError", Message = "boom" },
            DurationMs = 12.5, StdoutTail = "out\nline", StderrTail = "Traceback...\n",
        });

        Assert.Equal("req-2", read.RequestId);
        Assert.Equal("error", read.Status);
        Assert.NotNull(read.Output);
        Assert.True(JsonElement.DeepEquals(output.RootElement, read.Output.Value.ToElement()));
        Assert.Equal("HandlerError", read.Error?.Code);
        Assert.Equal("boom", read.Error?.Message);
        Assert.Equal(12.5, read.DurationMs);
        Assert.Equal("out\nline", read.StdoutTail);
        Assert.Equal("Traceback...\n", read.StderrTail);
    }

    [Fact]
    public async Task WriteAsync_RespMessageWithoutOptionalFields_ReadsNulls()
    {
        var read = await RoundTripAsync(new RespMessage { RequestId = "r" });

        Assert.Equal("success", read.Status);
        Assert.Null(read.Output);
        Assert.Null(read.Error);
        Assert.Null(read.StdoutTail);
        Assert.Null(read.StderrTail);
    }

    [Fact]
    public async Task WriteAsync_PingMessage_RoundTripsRequestId()
    {
        var read = await RoundTripAsync(new PingMessage { RequestId = "ping-42" });

        Assert.Equal("ping-42", read.RequestId);
    }

    [Fact]
    public async Task WriteAsync_StopMessage_RoundTrips()
    {
        await RoundTripAsync(new StopMessage());
    }

    [Fact]
    public async Task WriteAsync_SeveralMessages_ReadInOrder()
    {
        await _host.WriteAsync(new PingMessage { RequestId = "1" }, Timeout());
        await _host.WriteAsync(new StopMessage(), Timeout());
        await _host.WriteAsync(new PingMessage { RequestId = "2" }, Timeout());

        Assert.Equal("1", Assert.IsType<PingMessage>(await _agent.ReadAsync(Timeout())).RequestId);
        Assert.IsType<StopMessage>(await _agent.ReadAsync(Timeout()));
        Assert.Equal("2", Assert.IsType<PingMessage>(await _agent.ReadAsync(Timeout())).RequestId);
    }

    [Fact]
    public async Task WriteAsync_Ping_WireFormatIsBigEndianLengthThenJsonWithTypeFirst()
    {
        await _host.WriteAsync(new PingMessage { RequestId = "p1" }, Timeout());

        var expectedJson = """{"type":"ping","requestId":"p1"}"""u8.ToArray();
        var raw = new byte[4 + expectedJson.Length];
        await _pair.Agent.ReadExactlyAsync(raw, Timeout());

        Assert.Equal(new byte[] { 0, 0, 0, (byte)expectedJson.Length }, raw[..4]);
        Assert.Equal(Encoding.UTF8.GetString(expectedJson), Encoding.UTF8.GetString(raw[4..]));
    }

    [Fact]
    public async Task WriteAsync_LargeFrame_LengthHeaderIsBigEndian()
    {
        var big = new string('x', 70_000); // length needs three bytes, so byte order matters
        await _host.WriteAsync(new PingMessage { RequestId = big }, Timeout());

        var header = new byte[4];
        await _pair.Agent.ReadExactlyAsync(header, Timeout());
        var length = (header[0] << 24) | (header[1] << 16) | (header[2] << 8) | header[3];
        var payload = new byte[length];
        await _pair.Agent.ReadExactlyAsync(payload, Timeout());

        Assert.Equal("{\"type\":\"ping\",\"requestId\":\"".Length + big.Length + "\"}".Length, length);
        Assert.EndsWith(big + "\"}", Encoding.UTF8.GetString(payload));
    }

    [Theory]
    [InlineData("""{"type":"init","runtime":"node","handler":"index.js","version":"3","revision":5}""", typeof(InitMessage))]
    [InlineData("""{"type":"exec","requestId":"e","input":{"a":1}}""", typeof(ExecMessage))]
    [InlineData("""{"type":"resp","requestId":"e","status":"timeout"}""", typeof(RespMessage))]
    [InlineData("""{"type":"ping","requestId":"p"}""", typeof(PingMessage))]
    [InlineData("""{"type":"stop"}""", typeof(StopMessage))]
    public async Task ReadAsync_HandWrittenFrame_DecodesByTypeDiscriminator(string json, Type expected)
    {
        await _pair.Host.WriteAsync(Frame(json), Timeout());

        var read = await _agent.ReadAsync(Timeout());

        Assert.IsType(expected, read);
    }

    [Fact]
    public async Task ReadAsync_HandWrittenResp_DecodesFields()
    {
        await _pair.Host.WriteAsync(Frame("""{"type":"resp","requestId":"x","status":"timeout","durationMs":5,"error":{"code":"Timeout","message":"late"}}"""), Timeout());

        var resp = Assert.IsType<RespMessage>(await _agent.ReadAsync(Timeout()));

        Assert.Equal("x", resp.RequestId);
        Assert.Equal("timeout", resp.Status);
        Assert.Equal(5, resp.DurationMs);
        Assert.Equal("late", resp.Error?.Message);
    }

    [Fact]
    public async Task ReadAsync_FrameLargerThanMax_ThrowsAndNextFrameIsStillRead()
    {
        var reader = new AgentChannel(_pair.Agent, maxFrameBytes: 100);
        var oversize = new byte[100_001];
        Array.Fill(oversize, (byte)'z');
        var write = Task.Run(async () =>
        {
            await _pair.Host.WriteAsync(Frame(oversize), Timeout());
            await _host.WriteAsync(new PingMessage { RequestId = "after" }, Timeout());
        });

        var e = await Assert.ThrowsAsync<FrameTooLargeException>(async () => await reader.ReadAsync(Timeout()));
        var next = await reader.ReadAsync(Timeout());
        await write;

        Assert.Equal(100_001, e.Size);
        Assert.Equal(100, e.Limit);
        Assert.Equal("after", Assert.IsType<PingMessage>(next).RequestId);
    }

    [Fact]
    public async Task ReadAsync_FrameExactlyAtMax_IsRead()
    {
        var json = """{"type":"stop"}""";
        var reader = new AgentChannel(_pair.Agent, maxFrameBytes: json.Length);
        await _pair.Host.WriteAsync(Frame(json), Timeout());

        Assert.IsType<StopMessage>(await reader.ReadAsync(Timeout()));
    }

    [Fact]
    public async Task ReadAsync_LengthWithHighBitSet_ThrowsFrameTooLarge()
    {
        // 0x80000000 must not be read as a negative length.
        var reader = new AgentChannel(_pair.Agent, maxFrameBytes: 100);
        await _pair.Host.WriteAsync(new byte[] { 0x80, 0, 0, 0, 1, 2, 3 }, Timeout());
        _pair.HostSocket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        // Treated as a 2 GiB frame: its payload is skipped until the stream ends inside it.
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadAsync(Timeout()));
    }

    [Fact]
    public async Task WriteAsync_MessageLargerThanWritersMax_ThrowsBeforeWritingAnything()
    {
        var writer = new AgentChannel(_pair.Host, maxFrameBytes: 40);
        using var input = JsonDocument.Parse($$"""{"big":"{{new string('x', 200)}}"}""");

        var e = await Assert.ThrowsAsync<FrameTooLargeException>(
            async () => await writer.WriteAsync(new ExecMessage { RequestId = "big", Input = RawJson.FromElement(input.RootElement) }, Timeout()));
        await writer.WriteAsync(new PingMessage { RequestId = "small" }, Timeout());
        var next = await _agent.ReadAsync(Timeout());

        Assert.Equal(40, e.Limit);
        Assert.True(e.Size > 200);
        Assert.Equal("small", Assert.IsType<PingMessage>(next).RequestId);
    }

    [Fact]
    public async Task ReadAsync_CleanEndOfStream_ReturnsNull()
    {
        await _host.WriteAsync(new StopMessage(), Timeout());
        _pair.HostSocket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        Assert.IsType<StopMessage>(await _agent.ReadAsync(Timeout()));
        Assert.Null(await _agent.ReadAsync(Timeout()));
    }

    [Fact]
    public async Task ReadAsync_PeerDisposedChannel_ReturnsNull()
    {
        await _host.DisposeAsync();

        Assert.Null(await _agent.ReadAsync(Timeout()));
    }

    [Fact]
    public async Task ReadAsync_EndOfStreamInsideHeader_ThrowsEndOfStream()
    {
        await _pair.Host.WriteAsync(new byte[] { 0, 0 }, Timeout());
        _pair.HostSocket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        await Assert.ThrowsAsync<EndOfStreamException>(async () => await _agent.ReadAsync(Timeout()));
    }

    [Fact]
    public async Task ReadAsync_EndOfStreamInsidePayload_ThrowsEndOfStream()
    {
        var frame = Frame("""{"type":"stop"}""");
        await _pair.Host.WriteAsync(frame.AsMemory(0, frame.Length - 3), Timeout());
        _pair.HostSocket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        await Assert.ThrowsAsync<EndOfStreamException>(async () => await _agent.ReadAsync(Timeout()));
    }

    [Fact]
    public async Task ReadAsync_HeaderArrivingInPieces_IsReassembled()
    {
        var frame = Frame("""{"type":"ping","requestId":"slow"}""");
        var read = _agent.ReadAsync(Timeout()).AsTask();
        foreach (var b in frame[..6])
        {
            await _pair.Host.WriteAsync(new[] { b }, Timeout());
            await _pair.Host.FlushAsync();
            await Task.Delay(5);
        }
        await _pair.Host.WriteAsync(frame.AsMemory(6), Timeout());

        Assert.Equal("slow", Assert.IsType<PingMessage>(await read).RequestId);
    }

    [Fact]
    public async Task ReadAsync_UnknownTypeDiscriminator_ThrowsJsonException()
    {
        await _pair.Host.WriteAsync(Frame("""{"type":"dance"}"""), Timeout());

        await Assert.ThrowsAsync<JsonException>(async () => await _agent.ReadAsync(Timeout()));
    }

    [Fact]
    public void MaxFrameBytes_Default_IsSixMiBPlusEnvelope()
    {
        Assert.Equal(6 * 1024 * 1024 + 64 * 1024, new AgentChannel(Stream.Null).MaxFrameBytes);
        Assert.Equal(123, new AgentChannel(Stream.Null, 123).MaxFrameBytes);
    }
}
