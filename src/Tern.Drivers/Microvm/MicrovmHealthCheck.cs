using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tern.Drivers.Microvm;

/// <summary>Readiness of the microVM driver: Degraded (readiness stays 200: sandbox functions still run) with what is
/// missing and the command that fixes it; when usable, which accelerator VMs run under and why.</summary>
internal sealed class MicrovmHealthCheck(MicrovmDriver driver) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (driver.Problem() is { } problem) return Task.FromResult(HealthCheckResult.Degraded(problem));
        var accelerator = driver.Accelerator is { } a ? $"accelerator {a}: {driver.AcceleratorReason}" : $"accelerator: {driver.AcceleratorReason}";
        return Task.FromResult(HealthCheckResult.Healthy(accelerator));
    }
}
