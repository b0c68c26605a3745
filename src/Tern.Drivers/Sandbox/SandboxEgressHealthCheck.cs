using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tern.Drivers.Sandbox;

/// <summary>Readiness of network egress: degraded (still ready: functions without network run) with what is missing and
/// the command that installs it.</summary>
internal sealed class SandboxEgressHealthCheck(BubblewrapDriver driver) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(driver.EgressProblem() is { } problem ? HealthCheckResult.Degraded(problem) : HealthCheckResult.Healthy());
}
