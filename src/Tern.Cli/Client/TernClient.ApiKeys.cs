using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Tern.Cli.Client;

/// <summary>/v1/api-keys. Only the create response holds a key; list shows ids, names and times.</summary>
internal sealed partial class TernClient
{
    /// <summary>The header the CLI sends its --api-key / TERN_API_KEY in.</summary>
    public const string ApiKeyHeader = "X-API-Key";

    public Task<JsonNode> CreateApiKeyAsync(string name, string? role, int? rateLimitPerSecond, CancellationToken ct)
    {
        var body = new JsonObject { ["name"] = name };
        if (role is not null) body["role"] = role;
        if (rateLimitPerSecond is { } rate) body["rateLimitPerSecond"] = rate;
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return SendForJsonAsync(HttpMethod.Post, "/v1/api-keys", content, ct);
    }

    public Task<JsonNode> ListApiKeysAsync(CancellationToken ct) => SendForJsonAsync(HttpMethod.Get, "/v1/api-keys", null, ct);

    public async Task RevokeApiKeyAsync(string id, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Delete, "/v1/api-keys/" + Uri.EscapeDataString(id), null, ct).ConfigureAwait(false);
    }
}
