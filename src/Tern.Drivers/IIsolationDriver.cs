namespace Tern.Drivers;

/// <summary>One way of isolating workers: a sandboxed process, a microVM, a Kubernetes pod.
/// A driver starts a worker running the Tern agent and hands back a byte stream to it; everything
/// above (Init/Exec framing, pools) is the same for every driver.</summary>
public interface IIsolationDriver
{
    /// <summary>The name functions use in their "isolation" field.</summary>
    string Name { get; }

    /// <summary>Whether StartWorkerAsync accepts a spec without code (a template assigned its code later).</summary>
    bool SupportsTemplates { get; }

    /// <summary>What stops this driver from starting workers now (a missing component, with the command that installs
    /// it), or null when nothing does. Cheap: readiness and function registration ask.</summary>
    string? Problem() => null;

    /// <summary>Whether it can give a worker filtered outbound network (WorkerSpec.Network egress). A driver that cannot
    /// is never asked to: registering an egress function on it is refused.</summary>
    bool SupportsEgress => false;

    /// <summary>Starts a worker and returns once its agent is connected. Throws WorkerStartException.</summary>
    Task<IWorker> StartWorkerAsync(WorkerSpec spec, CancellationToken ct);
}
