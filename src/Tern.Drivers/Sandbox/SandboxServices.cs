using Microsoft.Extensions.DependencyInjection;
using Tern.Core.Settings;

namespace Tern.Drivers.Sandbox;

/// <summary>Registers the sandbox driver, its settings (section "sandbox") and its readiness check.</summary>
internal static class SandboxServices
{
    public static IServiceCollection AddSandboxDriver(this IServiceCollection services)
    {
        services.AddTernSettings<SandboxOptions>(SandboxOptions.Section);
        services.AddSingleton<BubblewrapDriver>();
        services.AddSingleton<IIsolationDriver>(sp => sp.GetRequiredService<BubblewrapDriver>());
        services.AddHealthChecks().AddCheck<SandboxHealthCheck>(BubblewrapDriver.DriverName)
            .AddCheck<SandboxEgressHealthCheck>(BubblewrapDriver.DriverName + "-egress");
        return services;
    }
}
