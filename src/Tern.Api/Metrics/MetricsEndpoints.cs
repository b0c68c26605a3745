using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tern.Core.Telemetry;

namespace Tern.Api.Metrics;

/// <summary>GET /metrics (Prometheus text format 0.0.4) and GET /v1/stats (JSON).</summary>
public static class MetricsEndpoints
{
    public static IServiceCollection AddTernMetrics(this IServiceCollection services) =>
        services.AddSingleton<TernMetrics>().AddSingleton<MetricsCollector>();

    public static void MapMetricsEndpoints(this WebApplication app)
    {
        app.Services.GetRequiredService<MetricsCollector>(); // listen from the start, not from the first scrape
        app.MapGet("/metrics", (MetricsCollector collector) => Results.Text(PrometheusText.Write(collector.Collect()), PrometheusText.ContentType))
            .WithTags("Metrics").WithName("GetMetrics").Produces<string>(contentType: "text/plain");
        app.MapGet("/v1/stats", (MetricsCollector collector) => Results.Json(StatsReport.From(collector.Collect()), StatsJsonContext.Default.StatsReport))
            .WithTags("Metrics").WithName("GetStats").Produces<StatsReport>();
    }
}
