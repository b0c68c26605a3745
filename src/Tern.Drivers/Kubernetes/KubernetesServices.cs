using Microsoft.Extensions.DependencyInjection;
using Tern.Core.Settings;

namespace Tern.Drivers.Kubernetes;

/// <summary>Registers the Kubernetes driver, its settings (section "kubernetes") and its readiness check.</summary>
internal static class KubernetesServices
{
    public static IServiceCollection AddKubernetesDriver(this IServiceCollection services)
    {
        services.AddTernSettings<KubernetesOptions>(KubernetesOptions.Section);
        services.AddSingleton<KubernetesDriver>();
        services.AddSingleton<IIsolationDriver>(sp => sp.GetRequiredService<KubernetesDriver>());
        services.AddHealthChecks().AddCheck<KubernetesHealthCheck>(KubernetesDriver.DriverName);
        return services;
    }
}
