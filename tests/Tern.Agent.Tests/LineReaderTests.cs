using Tern.Agent.Protocol.LineProtocol;
using System.Text;

namespace Tern.Agent.Tests;

public sealed class LineReaderTests
{
    private sealed class Pieces(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));
    }

    private static List<string> ReadAll(string text, int chunk, int max = 1 << 20)
    {
        var reader = new LineReader(new Pieces(Encoding.UTF8.GetBytes(text), chunk));
        var lines = new List<string>();
        while (true)
        {
            var line = reader.ReadLine(max, out var oversized);
            Assert.False(oversized);
            if (line.IsEmpty && reader.AtEnd) return lines;
            lines.Add(Encoding.UTF8.GetString(line));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(65536)]
    public void ReadLine_AnyPieces_GivesEachLine_AndALastOneWithoutNewline(int chunk) =>
        Assert.Equal(["a", "", "bc", "last"], ReadAll("a\n\nbc\nlast", chunk));

    [Fact]
    public void ReadLine_LongLine_GrowsTheBufferAndKeepsItWhole()
    {
        var big = new string('z', 300_000);
        Assert.Equal([big, "x"], ReadAll(big + "\nx\n", 4096));
    }

    [Fact]
    public void ReadLine_OverTheLimit_IsFlaggedWithItsHead()
    {
        var reader = new LineReader(new MemoryStream(Encoding.UTF8.GetBytes("{\"requestId\":\"r\"," + new string('q', 5000) + "\n")));
        var head = reader.ReadLine(1000, out var oversized);
        Assert.True(oversized);
        Assert.StartsWith("{\"requestId\":\"r\"", Encoding.UTF8.GetString(head));
        Assert.True(head.Length <= 1024);
    }
}
