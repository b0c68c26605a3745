using System.Runtime.InteropServices;
using Tern.Agent.Protocol.LineProtocol;

namespace Tern.Agent.Persistent;

/// <summary>Reads a handler's stderr pipe into its <see cref="RollingTail"/> on a parked thread, and can be told to stop
/// (a blocked read(2) cannot be interrupted, so it waits in poll(2) on the pipe and an eventfd). Stopping is how the
/// agent lets go of the pipe when it hands it to the host.</summary>
internal sealed unsafe class StderrPump
{
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
        try
        {
            _tail.Pump(_fd, _wakeFd, () => _stopping);
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

    [DllImport("libc", SetLastError = true)] private static extern long write(int fd, void* buffer, nuint count);
    [DllImport("libc", SetLastError = true)] private static extern int eventfd(uint initial, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
}
