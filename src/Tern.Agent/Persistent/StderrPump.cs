using System.Runtime.InteropServices;
using Tern.Agent.Protocol.LineProtocol;

namespace Tern.Agent.Persistent;

/// <summary>Reads a handler's stderr pipe into its <see cref="RollingTail"/> on a parked thread, and can be told to stop
/// (a blocked read(2) cannot be interrupted, so it waits in poll(2) on the pipe and an eventfd). Stopping is how the
/// agent lets go of the pipe when it hands it to the host.</summary>
internal sealed unsafe class StderrPump
{
    private const short PollIn = 0x1;
    private const int EfdCloexec = 0x80000;

    private readonly int _fd;
    private readonly int _wakeFd;
    private readonly RollingTail _tail;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private int _stopped;

    public StderrPump(int fd, RollingTail tail)
    {
        _fd = fd;
        _tail = tail;
        _wakeFd = eventfd(0, EfdCloexec);
        tail.TrackPipe(fd);
    }

    /// <summary>Completes when the pipe ended or the pump was stopped.</summary>
    public Task Ended => _ended.Task;

    public void Run()
    {
        var chunk = new byte[16 * 1024];
        var fds = stackalloc PollFd[2];
        try
        {
            while (!_stopping)
            {
                fds[0] = new PollFd { Fd = _fd, Events = PollIn };
                fds[1] = new PollFd { Fd = _wakeFd, Events = PollIn };
                if (poll(fds, _wakeFd >= 0 ? 2u : 1u, -1) < 0)
                {
                    if (Marshal.GetLastPInvokeError() == 4) continue; // EINTR
                    return;
                }
                if (_stopping || fds[1].Revents != 0) return;
                if (fds[0].Revents == 0) continue;
                _tail.Taking(); // the bytes stay visible to a call's catch-up until they are in the tail
                long n;
                fixed (byte* buffer = chunk) n = read(_fd, buffer, (nuint)chunk.Length);
                if (n <= 0) _tail.TookNothing();
                if (n < 0 && Marshal.GetLastPInvokeError() == 4) continue;
                if (n <= 0) return; // the write end is closed: the handler is gone
                _tail.Append(chunk.AsSpan(0, (int)n));
            }
        }
        finally
        {
            _ended.TrySetResult();
        }
    }

    /// <summary>Stops reading (what is in the pipe stays there for its next reader) and waits for the pump to let go.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        _stopping = true;
        ulong one = 1;
        if (_wakeFd >= 0) _ = write(_wakeFd, &one, sizeof(ulong));
        _ended.Task.Wait(TimeSpan.FromSeconds(2));
        if (_wakeFd >= 0) _ = close(_wakeFd);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)] private static extern int poll(PollFd* fds, uint count, int timeoutMs);
    [DllImport("libc", SetLastError = true)] private static extern long read(int fd, byte* buffer, nuint count);
    [DllImport("libc", SetLastError = true)] private static extern long write(int fd, void* buffer, nuint count);
    [DllImport("libc", SetLastError = true)] private static extern int eventfd(uint initial, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
}
