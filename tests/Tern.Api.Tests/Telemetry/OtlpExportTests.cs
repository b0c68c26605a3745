using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Hosting;
using Tern.Api.Telemetry;
using Tern.Testing;

namespace Tern.Api.Tests.Telemetry;

/// <summary>A daemon pointed at the FakeOtlpCollector with a short export interval.</summary>
public sealed class OtlpDaemonFixture : DaemonFixture
{
    public FakeOtlpCollector Collector { get; private set; } = null!;

    protected override void ConfigureOptions(DaemonOptions options)
    {
        options.OtlpEndpoint = Collector.Endpoint.ToString();
        options.OtlpExportInterval = TimeSpan.FromMilliseconds(200);
    }

    public override async Task InitializeAsync()
    {
        Collector = await FakeOtlpCollector.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Collector.DisposeAsync();
    }
}

/// <summary>OTLP export against a FAKE collector (raw protobuf bodies searched for bytes, not decoded).</summary>
public sealed class OtlpExportTests(OtlpDaemonFixture daemon) : IClassFixture<OtlpDaemonFixture>
{
    private const string ParentSpanId = "b7ad6b7169203331";

    [Fact]
    public void AddTernOtlpExport_WithoutEndpoint_RegistersNothing()
    {
        var services = new ServiceCollection();
        services.AddTernOtlpExport(new DaemonOptions { OtlpEndpoint = null });
        Assert.Empty(services);
    }

    [Fact]
    public async Task Invoke_WithOtlpEndpoint_ExportsSpanParentedOnTraceParent_AndMetrics_ToFakeCollector()
    {
        const string function = "otlp-fake-collector-fn";
        await daemon.CreateOkAsync(function, "python", Encoding.UTF8.GetBytes("print('{\"ok\": true}')"), "main.py");
        var traceId = ActivityTraceId.CreateRandom();
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/functions/{function}:invoke")
               { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
        {
            request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{ParentSpanId}-01");
            using var response = await daemon.Client.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        var traceIdBytes = new byte[16];
        traceId.CopyTo(traceIdBytes);
        var name = Encoding.UTF8.GetBytes(function);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var parentSpanId = Convert.FromHexString(ParentSpanId);
        bool SpanSeen() => daemon.Collector.Bodies("/v1/traces").Any(b =>
            b.AsSpan().IndexOf(name) >= 0 && b.AsSpan().IndexOf(traceIdBytes) >= 0 && b.AsSpan().IndexOf(parentSpanId) >= 0);
        bool MetricsSeen() => daemon.Collector.Bodies("/v1/metrics").Any(b => b.AsSpan().IndexOf(name) >= 0);
        while (!(SpanSeen() && MetricsSeen()) && DateTime.UtcNow < deadline) await Task.Delay(100);

        Assert.Contains(daemon.Collector.Received, r => r.Path == "/v1/traces" && r.Body.Length > 0 && r.ContentType == "application/x-protobuf");
        Assert.Contains(daemon.Collector.Received, r => r.Path == "/v1/metrics" && r.Body.Length > 0 && r.ContentType == "application/x-protobuf");
        Assert.True(SpanSeen(), "no traces body held the function name with the traceparent's trace id and parent span id");
        Assert.True(MetricsSeen(), "no metrics body named the function");
    }
}
