using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tern.Api.Tests.Telemetry;

/// <summary>A FAKE OTLP collector (no real collector can run here): a tiny Kestrel server on loopback that accepts the
/// OTLP/HTTP POSTs to /v1/traces and /v1/metrics, keeps each protobuf body as raw bytes, and answers 200 with an empty
/// export response. It does not decode protobuf; tests search the bytes.</summary>
public sealed class FakeOtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeOtlpCollector(WebApplication app) => _app = app;

    public ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> Received { get; } = new();

    public Uri Endpoint => new(_app.Urls.First());

    public static async Task<FakeOtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var collector = new FakeOtlpCollector(app);
        foreach (var path in new[] { "/v1/traces", "/v1/metrics" })
            app.MapPost(path, async (HttpRequest request) =>
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                collector.Received.Enqueue((path, request.ContentType, body.ToArray()));
                return Results.Bytes([], "application/x-protobuf"); // an empty Export*ServiceResponse: all accepted
            });
        await app.StartAsync();
        return collector;
    }

    public IEnumerable<byte[]> Bodies(string path) => Received.Where(r => r.Path == path).Select(r => r.Body);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
