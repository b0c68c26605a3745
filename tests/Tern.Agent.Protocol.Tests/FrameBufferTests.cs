using System.Buffers.Binary;
using System.Text;
using Tern.Json;

namespace Tern.Agent.Protocol.Tests;

/// <summary>Frames arrive in whatever pieces the stream gives: one byte at a time, several at once, oversize ones.</summary>
public sealed class FrameBufferTests
{
    private static byte[] Frame(string json)
    {
        var payload = Encoding.UTF8.GetBytes(json);
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>A stream that hands out at most <paramref name="chunk"/> bytes per read.</summary>
    private sealed class Trickle(byte[] data, int chunk) : Stream
    {
        private int _at;
        public int Reads { get; private set; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            Reads++;
            var n = Math.Min(Math.Min(count, chunk), data.Length - _at);
            Array.Copy(data, _at, buffer, offset, n);
            _at += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _at; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1 << 20)]
    public void Read_FramesInAnyPieces_AreEachReadWhole(int chunk)
    {
        var big = new string('x', 100_000);
        var data = Concat(Frame("""{"type":"ping","requestId":"1"}"""), Frame($$"""{"type":"exec","requestId":"2","input":"{{big}}","timeoutMs":1}"""),
            Frame("""{"type":"stop"}"""));
        var channel = new AgentChannel(new Trickle(data, chunk));

        Assert.Equal("1", Assert.IsType<PingMessage>(channel.Read()).RequestId);
        Assert.Equal(RawJson.Parse($"\"{big}\""), Assert.IsType<ExecMessage>(channel.Read()).Input);
        Assert.IsType<StopMessage>(channel.Read());
        Assert.Null(channel.Read());
    }

    [Fact]
    public void Read_SmallFramesArrivingTogether_TakeOneReadForAll()
    {
        var frames = Enumerable.Range(0, 10).Select(i => Frame($$"""{"type":"ping","requestId":"{{i}}"}""")).ToArray();
        var stream = new Trickle(Concat(frames), 1 << 20);
        var channel = new AgentChannel(stream);
        for (var i = 0; i < 10; i++) Assert.Equal(i.ToString(), Assert.IsType<PingMessage>(channel.Read()).RequestId);
        Assert.Equal(1, stream.Reads);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    public void Read_OversizeFrameBetweenOthers_IsSkippedAndTheNextIsRead(int chunk)
    {
        var data = Concat(Frame("""{"type":"ping","requestId":"a"}"""), Frame($$"""{"type":"ping","requestId":"{{new string('y', 5000)}}"}"""),
            Frame("""{"type":"ping","requestId":"b"}"""));
        var channel = new AgentChannel(new Trickle(data, chunk), maxFrameBytes: 100);

        Assert.Equal("a", Assert.IsType<PingMessage>(channel.Read()).RequestId);
        var e = Assert.Throws<FrameTooLargeException>(() => channel.Read());
        Assert.Equal(5000 + 30, e.Size);
        Assert.Equal("b", Assert.IsType<PingMessage>(channel.Read()).RequestId);
    }

    [Fact]
    public void Read_StreamEndsInsideAFrame_IsEndOfStream()
    {
        var frame = Frame("""{"type":"ping","requestId":"a"}""");
        var channel = new AgentChannel(new Trickle(frame[..^3], 1 << 20));
        Assert.Throws<EndOfStreamException>(() => channel.Read());
    }
}
