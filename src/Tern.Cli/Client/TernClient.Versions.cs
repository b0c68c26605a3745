using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Tern.Cli.Client;

/// <summary>/v1/functions/{name}/versions and /aliases.</summary>
internal sealed partial class TernClient
{
    public Task<JsonNode> PublishVersionAsync(string name, string? description, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Post, FunctionPath(name) + "/versions", VersionBody(new JsonObject { ["description"] = description }), ct);

    public Task<JsonNode> ListVersionsAsync(string name, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Get, FunctionPath(name) + "/versions", null, ct);

    public Task<JsonNode> SetAliasAsync(string name, string alias, int version, int? additionalVersion, int? additionalWeight, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Put, AliasPath(name, alias), VersionBody(new JsonObject
        {
            ["version"] = version, ["additionalVersion"] = additionalVersion, ["additionalWeight"] = additionalWeight,
        }), ct);

    public Task<JsonNode> ListAliasesAsync(string name, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Get, FunctionPath(name) + "/aliases", null, ct);

    public async Task DeleteAliasAsync(string name, string alias, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Delete, AliasPath(name, alias), null, ct).ConfigureAwait(false);
    }

    public Task<JsonNode> RollbackAliasAsync(string name, string alias, int? version, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Post, AliasPath(name, alias) + ":rollback", VersionBody(new JsonObject { ["version"] = version }), ct);

    private static string AliasPath(string name, string alias) => FunctionPath(name) + "/aliases/" + Uri.EscapeDataString(alias);

    private static ByteArrayContent VersionBody(JsonObject body)
    {
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }
}
