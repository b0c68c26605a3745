using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Api.Serialization;
using Tern.Drivers.Sandbox;
using Tern.Storage;

namespace Tern.Api.Endpoints;

/// <summary>Liveness (the process answers) and readiness (the store answers and the default driver can start workers).</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz/live", () => Results.Ok(new HealthReport("live"))).WithTags("Health");
        app.MapGet("/healthz/ready", async (IFunctionStore store, Microsoft.Extensions.Options.IOptions<SandboxOptions> sandbox, CancellationToken ct) =>
        {
            var checks = new Dictionary<string, string>();
            try
            {
                await store.ListAsync(ct);
                checks["store"] = "ok";
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                checks["store"] = e.Message;
            }
            checks["sandbox"] = !File.Exists(sandbox.Value.BubblewrapPath) ? $"bubblewrap missing at {sandbox.Value.BubblewrapPath}"
                : !File.Exists(sandbox.Value.AgentPath) ? $"agent missing at {sandbox.Value.AgentPath}" : "ok";
            var ready = checks.Values.All(v => v == "ok");
            return Results.Json(new HealthReport(ready ? "ready" : "not ready", checks), ApiJsonContext.Default.HealthReport,
                statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).WithTags("Health");
    }
}
