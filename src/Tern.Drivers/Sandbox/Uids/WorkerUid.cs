namespace Tern.Drivers.Sandbox.Uids;

/// <summary>One worker's host uid (its gid has the same number), leased from a <see cref="WorkerUidPool"/> until the
/// worker and every process in it are gone.</summary>
internal sealed class WorkerUid(uint value, WorkerUidPool pool) : IDisposable
{
    private int _returned;

    public uint Value { get; } = value;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _returned, 1) == 0) pool.Return(Value);
    }
}
