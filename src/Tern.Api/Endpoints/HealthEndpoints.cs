using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tern.Api.Serialization;

namespace Tern.Api.Endpoints;

/// <summary>Liveness (the process answers) and readiness: every health check the layers registered (the store, each
/// driver) passes. A failing check's message says what is missing and how to install it; the status is then 503. A
/// degraded one (an optional driver that cannot run here) shows its message too, and the daemon stays ready.</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz/live", () => Results.Ok(new Serialization.HealthReport("live"))).WithTags("Health");
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions
        {
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteAsync,
        }).WithTags("Health");
    }

    private static Task WriteAsync(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report)
    {
        // A degraded check (gvisor without runsc, network egress without pasta) keeps the daemon ready but still says what is missing.
        var checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status switch
        {
            HealthStatus.Healthy => e.Value.Description is { Length: > 0 } note ? "ok: " + note : "ok", // microvm: its accelerator
            HealthStatus.Degraded => "degraded: " + (e.Value.Description ?? "degraded"),
            _ => e.Value.Description ?? e.Value.Exception?.Message ?? "unhealthy",
        });
        var body = new Serialization.HealthReport(report.Status == HealthStatus.Unhealthy ? "not ready" : "ready", checks);
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, body, ApiJsonContext.Default.HealthReport);
    }
}
