namespace Tern.Drivers;

/// <summary>A worker whose agent can hand the host a persistent handler's pipes (its stdin, stdout and stderr), so the
/// host speaks the line protocol to the handler itself and the agent leaves the calls' data path (docs/hot-path.md,
/// "handoff"). Only a driver whose agent runs on this kernel can: the descriptors travel over a Unix socket.</summary>
public interface IHandoffWorker
{
    /// <summary>Receives the descriptors the agent sent (after its Init answer said so), each owned by the caller from
    /// then on. Throws IOException when none arrive within <paramref name="timeout"/> or they come from anyone but
    /// this worker's agent.</summary>
    Task<int[]> ReceiveHandlerPipesAsync(TimeSpan timeout, CancellationToken ct);
}
