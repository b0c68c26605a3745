using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Tern.Cli.Client;

/// <summary>/v1/secrets. The value is only ever in a request body; responses hold names, scopes and times.</summary>
internal sealed partial class TernClient
{
    /// <param name="functions">The scope; null keeps the secret's current one.</param>
    public Task<JsonNode> SetSecretAsync(string name, string value, IReadOnlyList<string>? functions, CancellationToken ct)
    {
        var body = new JsonObject { ["value"] = value };
        if (functions is not null) body["functions"] = Scope(functions);
        return SendForJsonAsync(HttpMethod.Put, SecretPath(name), Json(body), ct);
    }

    public Task<JsonNode> SetSecretScopeAsync(string name, IReadOnlyList<string> functions, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Patch, SecretPath(name), Json(new JsonObject { ["functions"] = Scope(functions) }), ct);

    private static JsonArray Scope(IReadOnlyList<string> functions) => new([.. functions.Select(f => (JsonNode)f)]);

    private static ByteArrayContent Json(JsonObject body)
    {
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    public Task<JsonNode> ListSecretsAsync(CancellationToken ct) => SendForJsonAsync(HttpMethod.Get, "/v1/secrets", null, ct);

    public async Task DeleteSecretAsync(string name, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Delete, SecretPath(name), null, ct).ConfigureAwait(false);
    }

    private static string SecretPath(string name) => "/v1/secrets/" + Uri.EscapeDataString(name);
}
