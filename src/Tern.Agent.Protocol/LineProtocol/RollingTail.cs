using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;

namespace Tern.Agent.Protocol.LineProtocol;

/// <summary>The last bytes of a long-lived pipe (a persistent handler's stderr), with a running byte count so a
/// call can take just what was written while it ran. Always drains the pipe.</summary>
public sealed class RollingTail(int limit)
{
    private readonly MemoryStream _buffer = new();
    private readonly Lock _lock = new();
    private long _total;
    private int _pipeFd = -1;
    private volatile bool _appending;

    /// <summary>Bytes written so far; pass it to <see cref="TextSince"/> later.</summary>
    public long Mark
    {
        get => Volatile.Read(ref _total);
    }

    /// <summary>Drains <paramref name="source"/> until it ends, on the calling thread (a pump thread of its own).</summary>
    public void CopyFrom(Stream source)
    {
        var chunk = new byte[16 * 1024];
        if (source is PipeStream pipe) TrackPipe((int)pipe.SafePipeHandle.DangerousGetHandle());
        try
        {
            int n;
            while ((n = source.Read(chunk)) > 0) Append(chunk.AsSpan(0, n));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
    }

    /// <summary>The pipe this tail is fed from, for <see cref="CatchUp"/> (when the caller reads it itself).</summary>
    public void TrackPipe(int fd) => _pipeFd = fd;

    /// <summary>Adds bytes just read from the pipe.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        _appending = true;
        lock (_lock)
        {
            _buffer.Write(bytes);
            _total += bytes.Length;
            if (_buffer.Length > 2L * limit) Compact();
        }
        _appending = false;
    }

    private void Compact()
    {
        var tail = _buffer.GetBuffer().AsSpan((int)(_buffer.Length - limit), limit).ToArray();
        _buffer.SetLength(0);
        _buffer.Write(tail);
    }

    /// <summary>Waits (at most <paramref name="max"/>) until what is already in the pipe has been read into the tail. A
    /// handler writes its log lines to stderr and then its answer to stdout; the two are read on different threads, so
    /// without this the answer can overtake the lines written before it, and the call's logs would lose them. Costs
    /// one ioctl when nothing is pending.</summary>
    public void CatchUp(TimeSpan max)
    {
        if (_pipeFd < 0) return;
        var deadline = Stopwatch.GetTimestamp() + (long)(max.TotalSeconds * Stopwatch.Frequency);
        while ((ioctl(_pipeFd, FionRead, out var pending) == 0 && pending > 0 || _appending) && Stopwatch.GetTimestamp() < deadline)
            Thread.Yield();
    }

    private const uint FionRead = 0x541B;

    [DllImport("libc", SetLastError = true)] private static extern int ioctl(int fd, uint request, out int count);

    /// <summary>What was written since <paramref name="mark"/> (at most the last <paramref name="maxBytes"/>); null if nothing.</summary>
    public string? TextSince(long mark, int maxBytes)
    {
        if (Volatile.Read(ref _total) == mark) return null; // the common case: the call wrote nothing
        lock (_lock)
        {
            var held = _buffer.Length;
            var available = Math.Min(held, _total - mark);
            var take = (int)Math.Min(available, maxBytes);
            if (take <= 0) return null;
            return Encoding.UTF8.GetString(_buffer.GetBuffer(), (int)(held - take), take);
        }
    }

    /// <summary>The last <paramref name="maxBytes"/> written; null if nothing.</summary>
    public string? Text(int maxBytes) => TextSince(0, maxBytes);
}
