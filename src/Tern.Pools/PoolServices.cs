using Microsoft.Extensions.DependencyInjection;
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
        services.AddSingleton<PoolManager>();
        services.AddSingleton<IFunctionObserver>(sp => sp.GetRequiredService<PoolManager>());
        services.AddHostedService<PoolMaintenanceService>();
        return services;
    }
}
