using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tern.Api.Auth;
using Tern.Testing;

namespace Tern.Api.Tests.Auth;

/// <summary>A real daemon with auth forced on (it listens on loopback, where auto would turn it off).</summary>
public sealed class AuthDaemonFixture : DaemonFixture
{
    protected override AuthMode Auth => AuthMode.On;
}

public sealed class ApiKeyAuthTests(AuthDaemonFixture daemon) : IClassFixture<AuthDaemonFixture>
{
    [Fact]
    public async Task NoKey_Returns401ProblemWithChallenge()
    {
        using var response = await daemon.Client.GetAsync("/v1/functions");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(401, (int?)problem["status"]);
        Assert.Equal("API key required", (string?)problem["title"]);
    }

    [Fact]
    public async Task Health_NeedsNoKey()
    {
        using var live = await daemon.Client.GetAsync("/healthz/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await daemon.Client.GetAsync("/healthz/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task CreatedKey_WorksWithBothHeaders()
    {
        var key = await CreateKeyAsync("both-headers");

        using var viaHeader = await SendAsync(HttpMethod.Get, "/v1/functions", r => r.Headers.Add("X-API-Key", key));
        Assert.Equal(HttpStatusCode.OK, viaHeader.StatusCode);
        using var viaBearer = await SendAsync(HttpMethod.Get, "/v1/functions", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key));
        Assert.Equal(HttpStatusCode.OK, viaBearer.StatusCode);
    }

    [Fact]
    public async Task CreateResponse_HoldsTheKeyOnce_ListNeverDoes()
    {
        using var created = await SendAsync(HttpMethod.Post, "/v1/api-keys", WithBootstrap, new { name = "listed", rateLimitPerSecond = 100 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        var key = (string)body["key"]!;
        var id = (string)body["id"]!;
        Assert.StartsWith("tern_", key);
        Assert.Equal("listed", (string?)body["name"]);
        Assert.Equal(100, (int?)body["rateLimitPerSecond"]);
        Assert.NotNull(body["createdAt"]);

        using var list = await SendAsync(HttpMethod.Get, "/v1/api-keys", WithBootstrap);
        var text = await list.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.DoesNotContain(key, text);
        Assert.DoesNotContain("\"key\"", text);
        Assert.DoesNotContain("hash", text);
        var entry = JsonNode.Parse(text)!["apiKeys"]!.AsArray().Single(k => (string?)k!["id"] == id)!;
        Assert.Equal("listed", (string?)entry["name"]);
        Assert.Null(entry["revokedAt"]);
    }

    [Fact]
    public async Task RevokedKey_Returns401_AndRevokingAgainIs404()
    {
        using var created = await SendAsync(HttpMethod.Post, "/v1/api-keys", WithBootstrap, new { name = "to-revoke" });
        var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        var key = (string)body["key"]!;
        var id = (string)body["id"]!;
        using (var before = await SendAsync(HttpMethod.Get, "/v1/functions", r => r.Headers.Add("X-API-Key", key)))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        using (var revoke = await SendAsync(HttpMethod.Delete, $"/v1/api-keys/{id}", WithBootstrap))
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        using (var after = await SendAsync(HttpMethod.Get, "/v1/functions", r => r.Headers.Add("X-API-Key", key)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
            Assert.Equal("Invalid API key", (string?)JsonNode.Parse(await after.Content.ReadAsStringAsync())!["title"]);
        }
        using (var again = await SendAsync(HttpMethod.Delete, $"/v1/api-keys/{id}", WithBootstrap))
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        using var list = await SendAsync(HttpMethod.Get, "/v1/api-keys", WithBootstrap);
        var entry = JsonNode.Parse(await list.Content.ReadAsStringAsync())!["apiKeys"]!.AsArray().Single(k => (string?)k!["id"] == id)!;
        Assert.NotNull(entry["revokedAt"]);
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("tern_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task BadKey_Returns401(string key)
    {
        using var response = await SendAsync(HttpMethod.Get, "/v1/functions", r => r.Headers.Add("X-API-Key", key));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(401, (int?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]);
    }

    [Fact]
    public async Task AlteredValidKey_Returns401()
    {
        var key = await CreateKeyAsync("altered");
        var altered = key[..^1] + (key[^1] == 'A' ? 'B' : 'A');
        using var response = await SendAsync(HttpMethod.Get, "/v1/functions", r => r.Headers.Add("X-API-Key", altered));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task KeyOverItsRateLimit_Gets429WithRetryAfter()
    {
        var key = await CreateKeyAsync("slow", rateLimitPerSecond: 2);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 8 && limited is null; i++)
        {
            var response = await SendAsync(HttpMethod.Get, "/v1/functions", r => r.Headers.Add("X-API-Key", key));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
            else response.Dispose();
        }
        Assert.True(limited is not null, string.Join(",", statuses));
        using (limited)
        {
            Assert.Equal(HttpStatusCode.OK, statuses[0]);
            Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Equal("rate-limit", limited.Headers.GetValues("X-Tern-Reject-Reason").Single());
            Assert.Equal(429, (int?)JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["status"]);
        }
    }

    [Fact]
    public async Task CreateWithoutName_Returns400()
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/api-keys", WithBootstrap, new { rateLimitPerSecond = 5 });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private void WithBootstrap(HttpRequestMessage request) => request.Headers.Add("X-API-Key", daemon.BootstrapKey!);

    private async Task<string> CreateKeyAsync(string name, int? rateLimitPerSecond = null)
    {
        Assert.NotNull(daemon.BootstrapKey);
        using var response = await SendAsync(HttpMethod.Post, "/v1/api-keys", WithBootstrap, new { name, rateLimitPerSecond });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return (string)JsonNode.Parse(text)!["key"]!;
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, Action<HttpRequestMessage> configure, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        configure(request);
        return daemon.Client.SendAsync(request);
    }
}
