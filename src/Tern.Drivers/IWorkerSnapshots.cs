namespace Tern.Drivers;

/// <summary>Saved worker states of a driver that can restore workers from them (the microVM driver): what the
/// `snapshots` endpoints and `tern snapshot` list, make and delete. Registered only by drivers that have snapshots.</summary>
public interface IWorkerSnapshots
{
    /// <summary>The isolation these snapshots belong to (functions of another isolation have none).</summary>
    string Isolation { get; }

    IReadOnlyList<WorkerSnapshotInfo> List(string function);

    /// <summary>Deletes every snapshot of the function; returns how many there were.</summary>
    int Delete(string function);

    /// <summary>Starts a worker for <paramref name="spec"/> from a cold boot, saves its state (replacing the function's
    /// older snapshots) and stops it.</summary>
    Task<WorkerSnapshotInfo> CreateAsync(WorkerSpec spec, CancellationToken ct);
}

/// <param name="Key">Names what the snapshot can be restored for: image, code drive, memory, vCPUs, accelerator.</param>
/// <param name="BootSeconds">How long the cold boot it was taken after took (launch to agent answering).</param>
public sealed record WorkerSnapshotInfo(string Function, string Key, string CodeHash, long Bytes, DateTimeOffset CreatedAt,
    double BootSeconds, double SaveSeconds, string Accelerator);
