using System.Net;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Api.Tests.Endpoints;

public sealed class HealthEndpointsTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    [Fact]
    public async Task Live_Returns200()
    {
        using var response = await daemon.Client.GetAsync("/healthz/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ready_WithStoreAndSandbox_Returns200WithChecks()
    {
        using var response = await daemon.Client.GetAsync("/healthz/ready");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal("ok", (string?)body["checks"]!["store"]);
        Assert.Equal("ok", (string?)body["checks"]!["sandbox"]);
    }

    [Fact]
    public async Task OpenApi_DocumentListsTheFunctionRoutes()
    {
        using var response = await daemon.Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["paths"]!.AsObject();
        Assert.True(paths.ContainsKey("/v1/functions"));
        Assert.True(paths.ContainsKey("/v1/functions/{name}"));
        Assert.True(paths.ContainsKey("/v1/functions/{name}:invoke"));
    }

    [Fact]
    public async Task UnknownRoute_Returns404Problem()
    {
        using var response = await daemon.Client.GetAsync("/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
