using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tern.Core.Executions;
using Tern.Core.Invocations;
using Tern.Storage;

namespace Tern.Invocation.Recovery;

/// <summary>At start, before the API serves anything: sync calls that a crash cut short are still recorded as
/// running, though their callers are long gone. Each is finished as an error (<c>Interrupted</c>: it may or may not
/// have run to its end), and its Idempotency-Key is released, so the caller's retry with the same key runs the call
/// again instead of waiting for, and replaying, a run that will never end. (Async calls are resumed instead: see
/// AsyncDispatcher.)</summary>
internal sealed partial class InterruptedSyncCalls(IExecutionStore store, TimeProvider time, ILogger<InterruptedSyncCalls> logger) : IHostedService
{
    public const string ErrorCode = "Interrupted";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var interrupted = await store.ListUnfinishedSyncAsync(cancellationToken).ConfigureAwait(false);
        foreach (var record in interrupted)
        {
            await store.UpdateAsync(record with
            {
                Status = ExecutionStatus.Error, FinishedAt = time.GetUtcNow(),
                Error = new InvocationError(ErrorCode, "the daemon stopped while this call ran, so it may or may not have run to its end; retry it"),
            }, cancellationToken).ConfigureAwait(false);
            if (record.IdempotencyKey is not null) await store.ReleaseIdempotencyKeyAsync(record.ExecutionId, cancellationToken).ConfigureAwait(false);
        }
        if (interrupted.Count > 0) LogInterrupted(interrupted.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 220, Level = LogLevel.Warning, Message = "{Count} sync calls were cut short by the last stop; their records now say Interrupted")]
    private partial void LogInterrupted(int count);
}
