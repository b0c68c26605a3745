using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tern.Storage;

namespace Tern.Pools;

/// <summary>Prewarms minReplicas at daemon start, then every second evicts idle and dead workers (and pings idle
/// ones every PingInterval). Stops every worker when the daemon stops.</summary>
internal sealed partial class PoolMaintenanceService(
    PoolManager pools, WorkerTemplates templates, IFunctionStore store, TimeProvider time, ILogger<PoolMaintenanceService> logger)
    : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    public override async Task StartAsync(CancellationToken ct)
    {
        templates.Start();
        foreach (var function in await store.ListAsync(ct).ConfigureAwait(false))
            if (function.MinReplicas > 0) pools.OnFunctionChanged(function.Name, function);
        await base.StartAsync(ct).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastPing = time.GetUtcNow();
        using var timer = new PeriodicTimer(Tick, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var ping = time.GetUtcNow() - lastPing >= pools.Options.PingInterval;
            if (ping) lastPing = time.GetUtcNow();
            try
            {
                await pools.MaintainAsync(ping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogMaintenanceFailed(e);
            }
        }
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        await base.StopAsync(ct).ConfigureAwait(false);
        await pools.CloseAllAsync().ConfigureAwait(false);
        await templates.CloseAsync().ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 320, Level = LogLevel.Error, Message = "pool maintenance failed")]
    private partial void LogMaintenanceFailed(Exception e);
}
