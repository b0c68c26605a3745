using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Tern.Drivers.Kubernetes;

/// <summary>Readiness of the Kubernetes driver: no cluster configured, or one that does not answer, is Degraded
/// (readiness stays 200: every other isolation still works) with the reason; registering a kubernetes function is then
/// refused (400) with the same words. Where kubernetes is the default isolation (the control plane of deploy/), the
/// daemon cannot serve without it: Unhealthy.</summary>
internal sealed class KubernetesHealthCheck(KubernetesDriver driver, IOptions<DriverOptions> drivers) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(driver.Problem() is not { } problem ? HealthCheckResult.Healthy()
            : drivers.Value.DefaultIsolation == KubernetesDriver.DriverName ? HealthCheckResult.Unhealthy(problem) : HealthCheckResult.Degraded(problem));
}
