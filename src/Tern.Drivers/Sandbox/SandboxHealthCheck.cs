using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Tern.Drivers.Sandbox;

/// <summary>Readiness of the sandbox driver: bubblewrap installed and executable, the agent built, cgroups usable.
/// Unhealthy names what is missing and the command that installs it. A daemon whose default isolation is another driver
/// (a control plane in a pod running only kubernetes workers) serves without bubblewrap, so there it is Degraded.</summary>
internal sealed class SandboxHealthCheck(BubblewrapDriver driver, IOptions<DriverOptions>? drivers = null) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(driver.Problem() is not { } problem ? HealthCheckResult.Healthy()
            : (drivers?.Value.DefaultIsolation ?? Core.Functions.FunctionLimits.DefaultIsolation) == Core.Functions.FunctionLimits.DefaultIsolation
                ? HealthCheckResult.Unhealthy(problem) : HealthCheckResult.Degraded(problem));
}
