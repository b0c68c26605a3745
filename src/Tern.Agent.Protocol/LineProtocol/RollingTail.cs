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
    private volatile bool _taking; // the pump took (or is taking) bytes off the pipe that are not appended yet

    /// <summary>Bytes written so far; pass it to <see cref="TextSince"/> later.</summary>
    public long Mark
    {
        get => Volatile.Read(ref _total);
    }

    /// <summary>Drains <paramref name="pipe"/> until it ends, on the calling thread (a pump thread of its own): see
    /// <see cref="Pump"/>.</summary>
    public void CopyFrom(PipeStream pipe) => Pump((int)pipe.SafePipeHandle.DangerousGetHandle());

    /// <summary>Drains the pipe <paramref name="fd"/> into the tail until it ends, on the calling thread: poll(2), then
    /// read(2), marking the bytes as being taken in between, so they are never off the pipe (where <see cref="CatchUp"/>
    /// sees them) without the tail knowing they are on their way; a blocking read alone would take them inside the call,
    /// and a call ending just then would miss its last line. Returns early, leaving what is in the pipe for its next
    /// reader, once <paramref name="wakeFd"/> (an eventfd, or -1 for none) is readable or <paramref name="stopping"/> says so.</summary>
    public void Pump(int fd, int wakeFd = -1, Func<bool>? stopping = null)
    {
        TrackPipe(fd);
        var chunk = new byte[16 * 1024];
        var fds = new PollFd[wakeFd >= 0 ? 2 : 1];
        try
        {
            while (stopping?.Invoke() != true)
            {
                fds[0] = new PollFd { Fd = fd, Events = PollIn };
                if (wakeFd >= 0) fds[1] = new PollFd { Fd = wakeFd, Events = PollIn };
                if (poll(fds, (nuint)fds.Length, -1) < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EIntr) continue;
                    return;
                }
                if (stopping?.Invoke() == true || wakeFd >= 0 && fds[1].Revents != 0) return;
                if (fds[0].Revents == 0) continue;
                Taking();
                var n = read(fd, chunk, (nuint)chunk.Length);
                if (n <= 0) _taking = false;
                if (n < 0 && Marshal.GetLastPInvokeError() == EIntr) continue;
                if (n <= 0) return; // the write end is closed: the handler is gone
                Append(chunk.AsSpan(0, (int)n));
            }
        }
        finally
        {
            _taking = false;
        }
    }

    /// <summary>The pipe this tail is fed from, for <see cref="CatchUp"/> (when the caller reads it itself).</summary>
    public void TrackPipe(int fd) => _pipeFd = fd;

    /// <summary>Bytes are about to leave the pipe for this tail (poll(2) found them): <see cref="CatchUp"/> waits for
    /// them until <see cref="Append"/> has them.</summary>
    public void Taking() => _taking = true;

    /// <summary>Adds bytes just read from the pipe.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        _taking = true;
        lock (_lock)
        {
            _buffer.Write(bytes);
            _total += bytes.Length;
            if (_buffer.Length > 2L * limit) Compact();
        }
        _taking = false;
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
        while ((ioctl(_pipeFd, FionRead, out var pending) == 0 && pending > 0 || _taking) && Stopwatch.GetTimestamp() < deadline)
            Thread.Yield();
    }

    private const uint FionRead = 0x541B;
    private const short PollIn = 0x1;
    private const int EIntr = 4;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)] private static extern int ioctl(int fd, uint request, out int count);
    [DllImport("libc", SetLastError = true)] private static extern int poll([In, Out] PollFd[] fds, nuint count, int timeout);
    [DllImport("libc", SetLastError = true)] private static extern nint read(int fd, byte[] buffer, nuint count);

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
