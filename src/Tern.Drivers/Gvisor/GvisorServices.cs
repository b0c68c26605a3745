using Microsoft.Extensions.DependencyInjection;
using Tern.Core.Settings;

namespace Tern.Drivers.Gvisor;

/// <summary>Registers the gVisor driver, its settings (section "gvisor") and its readiness check.</summary>
internal static class GvisorServices
{
    public static IServiceCollection AddGvisorDriver(this IServiceCollection services)
    {
        services.AddTernSettings<GvisorOptions>(GvisorOptions.Section);
        services.AddSingleton<GvisorDriver>();
        services.AddSingleton<IIsolationDriver>(sp => sp.GetRequiredService<GvisorDriver>());
        services.AddHealthChecks().AddCheck<GvisorHealthCheck>(GvisorDriver.DriverName);
        return services;
    }
}
