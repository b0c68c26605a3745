using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tern.Drivers.Gvisor;

/// <summary>Readiness of the gVisor driver. A daemon without runsc still serves every sandbox function, so a problem
/// here is Degraded (readiness stays 200) and names what is missing and the command that installs it; registering a
/// function with isolation gvisor is then refused (400) with the same words. When usable it says which platform workers
/// run on and why ("ok: platform systrap: auto: runsc ... has systrap"), which `tern status` shows.</summary>
internal sealed class GvisorHealthCheck(GvisorDriver driver) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(driver.Problem() is { } problem
            ? HealthCheckResult.Degraded(problem)
            : HealthCheckResult.Healthy($"platform {driver.Platform}: {driver.PlatformNote}"));
}
