using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Tern.Drivers.Sandbox.Uids;

/// <summary>Hands each live worker a host uid (and the gid of the same number) of its own, so no two workers (and no
/// other host process) share the identity that guards /proc/PID/environ, ptrace, signals and per-user kernel limits.
/// Within this daemon a set keeps leases unique; across daemons on one machine, each lease also holds a one-byte
/// open-file-description lock at offset (uid - first) of a shared lock file. The kernel drops those locks when the
/// daemon dies, so a crashed daemon never strands its uids. Leases go round-robin from a random start, so a uid
/// just given back is the last to be reused.</summary>
internal sealed class WorkerUidPool : IDisposable
{
    private readonly uint _first;
    private readonly int _count;
    private readonly string _lockFile;
    private readonly HashSet<uint> _live = [];
    private readonly Lock _gate = new();
    private FileStream? _locks; // kept open for the daemon's life: closing it drops every lock
    private int _cursor;

    public WorkerUidPool(uint first, int count, string lockFile)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "the worker uid range is empty");
        if (first == 0 || (ulong)first + (ulong)count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(first), first, "worker uids must be above 0 and below 2^31");
        _first = first;
        _count = count;
        _lockFile = lockFile;
        _cursor = Random.Shared.Next(count);
    }

    public uint First => _first;
    public int Count => _count;

    public WorkerUid Rent()
    {
        lock (_gate)
        {
            var locks = _locks ??= OpenLockFile();
            for (var tried = 0; tried < _count; tried++)
            {
                var index = _cursor;
                _cursor = (_cursor + 1) % _count;
                var uid = _first + (uint)index;
                if (_live.Contains(uid) || !SetLock(locks.SafeFileHandle, index, LockType.Write)) continue;
                _live.Add(uid);
                return new WorkerUid(uid, this);
            }
        }
        throw new WorkerStartException($"all {_count} worker uids from {_first} are in use (by this daemon or another one on this machine)");
    }

    internal void Return(uint uid)
    {
        lock (_gate)
        {
            if (!_live.Remove(uid) || _locks is null) return;
            SetLock(_locks.SafeFileHandle, (int)(uid - _first), LockType.Unlock);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _locks?.Dispose(); // closing the description releases every lock it holds
            _locks = null;
            _live.Clear();
        }
    }

    private FileStream OpenLockFile()
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_lockFile)!);
            // Only root may open it (0600 from creation): with read access anyone could hold a read lock on a slot and
            // keep its uid from ever being leased.
            var stream = new FileStream(_lockFile, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            File.SetUnixFileMode(stream.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            return stream;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WorkerStartException($"cannot open the worker uid lock file {_lockFile}: {e.Message}");
        }
    }

    private static bool SetLock(SafeFileHandle file, int index, LockType type)
    {
        var request = new FileLock { Type = (short)type, Whence = 0, Start = index, Length = 1 };
        if (fcntl(file, F_OFD_SETLK, ref request) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno is EAGAIN or EACCES) return false; // another daemon holds it
        throw new WorkerStartException($"cannot lock worker uid slot {index}: errno {errno}");
    }

    private enum LockType : short { Write = 1, Unlock = 2 } // F_WRLCK, F_UNLCK

    private const int F_OFD_SETLK = 37;
    private const int EACCES = 13;
    private const int EAGAIN = 11;

    /// <summary>struct flock on 64-bit Linux (x86_64 and arm64 share it); l_pid must be 0 for OFD locks.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct FileLock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(SafeFileHandle fd, int cmd, ref FileLock lockRequest);
}
