using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Core.Settings;
using Tern.Core.Functions;

namespace Tern.Pools;

/// <summary>Registers warm pools: per-function pools, spare workers per driver, and the maintenance loop (idle TTL,
/// pings, min replicas). Settings: section "pools".</summary>
public static class PoolServices
{
    public static IServiceCollection AddTernPools(this IServiceCollection services)
    {
        services.AddTernSettings<PoolOptions>(PoolOptions.Section);
        services.AddTernSettings<HandlerOptions>(HandlerOptions.Section);
        services.AddSingleton<WorkerTemplates>();
        // Built here: its constructor is internal (WorkerTemplates is the layer's own).
        services.AddSingleton(sp => new PoolManager(
            sp.GetRequiredService<Tern.Drivers.DriverRegistry>(), sp.GetRequiredService<WorkerTemplates>(),
            sp.GetRequiredService<IOptions<PoolOptions>>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PoolManager>>(), sp.GetRequiredService<Tern.Storage.Secrets.ISecretResolver>(),
            sp.GetRequiredService<Tern.Core.Telemetry.TernMetrics>(), sp.GetRequiredService<IOptions<HandlerOptions>>(),
            sp.GetService<Tern.Core.Code.ICodeSource>()));
        services.AddSingleton<IFunctionObserver>(sp => sp.GetRequiredService<PoolManager>());
        services.AddHostedService<PoolMaintenanceService>();
        return services;
    }
}
