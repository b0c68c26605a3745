using Tern.Drivers.Sandbox.Uids;

namespace Tern.Drivers.Tests.Sandbox.Uids;

/// <summary>Leases are unique within a daemon and, through the shared lock file, across daemons on one machine.</summary>
public sealed class WorkerUidPoolTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tern-uids-" + Guid.NewGuid().ToString("N"));
    private string LockFile => Path.Combine(_dir, "uids.lock");

    [Fact]
    public void Rent_GivesDistinctUidsFromTheRange_UntilItIsExhausted()
    {
        using var pool = new WorkerUidPool(5000, 3, LockFile);
        var leases = new[] { pool.Rent(), pool.Rent(), pool.Rent() };
        Assert.Equal(3, leases.Select(l => l.Value).Distinct().Count());
        Assert.All(leases, l => Assert.InRange(l.Value, 5000u, 5002u));
        var e = Assert.Throws<WorkerStartException>(() => pool.Rent());
        Assert.Contains("in use", e.Message);

        leases[1].Dispose();
        leases[1].Dispose(); // a second return is harmless
        Assert.Equal(leases[1].Value, pool.Rent().Value);
    }

    [Fact]
    public void TwoPools_OnOneLockFile_NeverLeaseTheSameUid()
    {
        using var first = new WorkerUidPool(7000, 4, LockFile);
        using var second = new WorkerUidPool(7000, 4, LockFile);
        var a = new[] { first.Rent(), first.Rent() };
        var b = new[] { second.Rent(), second.Rent() };
        Assert.Equal(4, a.Concat(b).Select(l => l.Value).Distinct().Count());
        Assert.Throws<WorkerStartException>(() => second.Rent());

        a[0].Dispose(); // given back by one daemon: the other may now have it
        Assert.Equal(a[0].Value, second.Rent().Value);
    }

    [Fact]
    public void DisposedPool_ReleasesItsLocks_LikeADaemonThatDied()
    {
        var dying = new WorkerUidPool(9000, 1, LockFile);
        var held = dying.Rent();
        using var other = new WorkerUidPool(9000, 1, LockFile);
        Assert.Throws<WorkerStartException>(() => other.Rent());
        dying.Dispose();
        Assert.Equal(held.Value, other.Rent().Value);
    }

    [Fact]
    public void LockFile_IsOnlyForRoot()
    {
        using var pool = new WorkerUidPool(9100, 1, LockFile);
        pool.Rent();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(LockFile));
    }

    [Theory]
    [InlineData(0u, 10)]
    [InlineData(2_147_483_000u, 65536)]
    [InlineData(100_000u, 0)]
    public void Range_OutsideUsableUids_IsRefused(uint first, int count) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerUidPool(first, count, LockFile));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
