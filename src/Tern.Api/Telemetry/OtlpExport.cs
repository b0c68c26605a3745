using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Tern.Api.Hosting;
using Tern.Core.Telemetry;

namespace Tern.Api.Telemetry;

/// <summary>OTLP export of the "Tern" spans and the "Tern" meter, set up only when an endpoint is configured
/// (DaemonOptions.OtlpEndpoint: TERN_OTLP_ENDPOINT or the standard OTEL_EXPORTER_OTLP_ENDPOINT). Without one nothing is
/// registered and the ActivitySource has no listener. The providers are wired by hand (OpenTelemetry.Extensions.Hosting
/// does not restore here); they are DI singletons, so disposing the app flushes and stops them.</summary>
public static class OtlpExport
{
    public const string ProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public const string ServiceNameVariable = "OTEL_SERVICE_NAME";
    public const string DefaultServiceName = "tern";

    public static IServiceCollection AddTernOtlpExport(this IServiceCollection services, DaemonOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.OtlpEndpoint)) return services;
        var endpoint = new Uri(options.OtlpEndpoint);
        var basePath = endpoint.AbsoluteUri.TrimEnd('/'); // "http://host:4318/" or a base with a path, "…/otlp"
        // http/protobuf unless the standard variable asks for grpc (the SDK's own default is grpc).
        var protocol = string.Equals(Environment.GetEnvironmentVariable(ProtocolVariable), "grpc", StringComparison.OrdinalIgnoreCase)
            ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        var serviceName = Environment.GetEnvironmentVariable(ServiceNameVariable) is { Length: > 0 } name ? name : DefaultServiceName;
        var resource = ResourceBuilder.CreateDefault().AddService(serviceName);
        var interval = options.OtlpExportInterval;

        // An endpoint set in code is used as given, so the http/protobuf signal paths are added here.
        void Configure(OtlpExporterOptions o, string signalPath)
        {
            o.Protocol = protocol;
            o.Endpoint = protocol == OtlpExportProtocol.Grpc ? endpoint : new Uri(basePath + signalPath);
        }

        services.AddSingleton(_ => Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(TernTracing.SourceName)
            .AddOtlpExporter(o =>
            {
                Configure(o, "/v1/traces");
                if (interval is { } i) o.BatchExportProcessorOptions.ScheduledDelayMilliseconds = (int)i.TotalMilliseconds;
            })
            .Build());
        services.AddSingleton(_ => Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(TernMetrics.MeterName)
            .AddOtlpExporter((o, reader) =>
            {
                Configure(o, "/v1/metrics");
                if (interval is { } i) reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)i.TotalMilliseconds;
            })
            .Build());
        return services;
    }

    /// <summary>Starts the providers (they listen from construction); a no-op when export is off.</summary>
    public static void StartTernOtlpExport(this IServiceProvider services)
    {
        services.GetService<TracerProvider>();
        services.GetService<MeterProvider>();
    }
}
