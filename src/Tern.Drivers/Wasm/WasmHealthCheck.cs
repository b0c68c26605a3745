using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tern.Drivers.Wasm;

/// <summary>Readiness of the wasm runtime. A daemon without its host still serves every other runtime, so a problem here
/// is Degraded (readiness stays 200) and names what is missing and how to build it; registering a wasm function is then
/// refused (400) with the same words.</summary>
internal sealed class WasmHealthCheck(WasmModules wasm) : IHealthCheck
{
    public const string Name = "wasm";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(wasm.Problem() is { } problem ? HealthCheckResult.Degraded(problem) : HealthCheckResult.Healthy());
}
