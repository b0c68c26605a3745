using Tern.Core.Code;

namespace Tern.Drivers;

/// <summary>A running worker: an isolated place with the Tern agent in it, reached over <see cref="Stream"/>.</summary>
public interface IWorker : IAsyncDisposable
{
    string Id { get; }

    /// <summary>The duplex byte stream to the agent (Unix socket, virtio-serial, TCP: the caller does not care).</summary>
    Stream Stream { get; }

    /// <summary>Completes when the worker has gone, for whatever reason.</summary>
    Task Exited { get; }

    /// <summary>What is known about how the worker is doing or why it ended (for example an OOM kill). Asked only after
    /// a call failed; a remote driver may need a round trip to answer.</summary>
    ValueTask<WorkerDiagnostics> DiagnoseAsync();

    /// <summary>Gives a template worker (started without code) its function's code and limits, before Init.
    /// Throws NotSupportedException for a worker that already has code.</summary>
    ValueTask AssignAsync(CodeRef code, WorkerLimits limits, CancellationToken ct);

    /// <summary>Ends the worker and everything running in it, at once.</summary>
    ValueTask KillAsync();
}
