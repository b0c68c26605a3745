using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tern.Drivers.Sandbox;

/// <summary>Readiness of the sandbox driver: bubblewrap installed and executable, the agent built, cgroups usable.
/// Unhealthy names what is missing and the command that installs it.</summary>
internal sealed class SandboxHealthCheck(BubblewrapDriver driver) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(driver.Problem() is { } problem ? HealthCheckResult.Unhealthy(problem) : HealthCheckResult.Healthy());
}
