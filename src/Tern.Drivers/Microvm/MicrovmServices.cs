using Microsoft.Extensions.DependencyInjection;
using Tern.Core.Settings;

namespace Tern.Drivers.Microvm;

/// <summary>Registers the microVM driver, its settings (section "microvm"), its snapshots and its readiness check.</summary>
internal static class MicrovmServices
{
    public static IServiceCollection AddMicrovmDriver(this IServiceCollection services)
    {
        services.AddTernSettings<MicrovmOptions>(MicrovmOptions.Section);
        services.AddSingleton<MicrovmDriver>();
        services.AddSingleton<IIsolationDriver>(sp => sp.GetRequiredService<MicrovmDriver>());
        services.AddSingleton<IWorkerSnapshots>(sp => sp.GetRequiredService<MicrovmDriver>());
        services.AddHealthChecks().AddCheck<MicrovmHealthCheck>(MicrovmDriver.DriverName);
        return services;
    }
}
