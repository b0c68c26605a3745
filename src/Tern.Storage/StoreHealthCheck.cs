using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tern.Storage;

/// <summary>Readiness of the store: it answers a query.</summary>
internal sealed class StoreHealthCheck(IFunctionStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.ListAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"the store does not answer: {e.Message}");
        }
    }
}
