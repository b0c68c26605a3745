using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tern.Drivers.Kubernetes;

/// <summary>Readiness of the Kubernetes driver: no cluster configured, or one that does not answer, is Degraded
/// (readiness stays 200: every other isolation still works) with the reason; registering a kubernetes function is then
/// refused (400) with the same words.</summary>
internal sealed class KubernetesHealthCheck(KubernetesDriver driver) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(driver.Problem() is { } problem ? HealthCheckResult.Degraded(problem) : HealthCheckResult.Healthy());
}
