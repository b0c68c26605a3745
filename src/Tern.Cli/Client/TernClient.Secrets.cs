using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Tern.Cli.Client;

/// <summary>/v1/secrets. The value is only ever in a request body; responses hold names and times.</summary>
internal sealed partial class TernClient
{
    public Task<JsonNode> SetSecretAsync(string name, string value, CancellationToken ct)
    {
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(new JsonObject { ["value"] = value }.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return SendForJsonAsync(HttpMethod.Put, SecretPath(name), content, ct);
    }

    public Task<JsonNode> ListSecretsAsync(CancellationToken ct) => SendForJsonAsync(HttpMethod.Get, "/v1/secrets", null, ct);

    public async Task DeleteSecretAsync(string name, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Delete, SecretPath(name), null, ct).ConfigureAwait(false);
    }

    private static string SecretPath(string name) => "/v1/secrets/" + Uri.EscapeDataString(name);
}
