namespace Tern.Drivers.Cgroups;

/// <summary>Tells a live daemon's cgroup parent from a dead one's. Each daemon holds an exclusive lock (flock, which .NET
/// takes for FileShare.None) on {dir}/{daemon id} for its whole life, from before it creates its parent cgroup; the
/// kernel drops the lock when the daemon dies, however it dies. A parent whose lock another daemon can take belongs to
/// no live daemon, so its empty worker cgroups can go: nothing is about to join them. (Without this, the parents of
/// daemons killed with a state dir nobody reuses, such as tests', would stay forever.) Lock files are never deleted:
/// deleting one while a restarting daemon opens it could leave two daemons each locking a different file.</summary>
internal sealed class CgroupOwnerLock : IDisposable
{
    private readonly FileStream _held;

    private CgroupOwnerLock(FileStream held) => _held = held;

    /// <summary>This daemon's own lock. It waits briefly for another daemon that is checking whether this id is dead.
    /// Null when the directory cannot be written (a daemon that is not root, with the default directory) or a live
    /// daemon holds the id (two daemons on one state dir); the daemon then runs as before, sweeping its own parent only.</summary>
    public static CgroupOwnerLock? Take(string dir, string daemonId)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (TryLock(dir, daemonId) is { } held) return new CgroupOwnerLock(held);
            Thread.Sleep(20);
        }
        return null;
    }

    /// <summary>The lock of a daemon that is no longer running, held while its cgroups are removed (so a daemon that
    /// restarts on the same state dir meanwhile waits in <see cref="Take"/>); null if the daemon is alive.</summary>
    public static CgroupOwnerLock? ClaimIfDead(string dir, string daemonId) =>
        TryLock(dir, daemonId) is { } held ? new CgroupOwnerLock(held) : null;

    private static FileStream? TryLock(string dir, string daemonId)
    {
        try
        {
            Directory.CreateDirectory(dir);
            return new FileStream(Path.Combine(dir, daemonId), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // held by a live daemon, or a directory this daemon may not write
        }
    }

    public void Dispose() => _held.Dispose();
}
