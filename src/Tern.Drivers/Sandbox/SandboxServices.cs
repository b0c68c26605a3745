using Microsoft.Extensions.DependencyInjection;

namespace Tern.Drivers.Sandbox;

/// <summary>Registers the sandbox driver and its readiness check.</summary>
public static class SandboxServices
{
    public static IServiceCollection AddSandboxDriver(this IServiceCollection services)
    {
        services.AddSingleton<BubblewrapDriver>();
        services.AddSingleton<IIsolationDriver>(sp => sp.GetRequiredService<BubblewrapDriver>());
        services.AddHealthChecks().AddCheck<SandboxHealthCheck>(BubblewrapDriver.DriverName);
        return services;
    }
}
