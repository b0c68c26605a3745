using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Storage;

namespace Tern.Invocation.Async;

/// <summary>Removes finished execution records (and with them their idempotency keys) once they are older than the TTL.</summary>
internal sealed partial class ExecutionJanitor(IExecutionStore store, IOptions<AsyncOptions> options, TimeProvider time, ILogger<ExecutionJanitor> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.JanitorInterval, time);
        do
        {
            try
            {
                var removed = await store.DeleteFinishedBeforeAsync(time.GetUtcNow() - options.Value.RecordTtl, stoppingToken).ConfigureAwait(false);
                if (removed > 0) LogRemoved(removed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(EventId = 420, Level = LogLevel.Information, Message = "removed {Count} expired execution records")]
    private partial void LogRemoved(int count);

    [LoggerMessage(EventId = 421, Level = LogLevel.Error, Message = "expiring execution records failed")]
    private partial void LogFailed(Exception e);
}
