using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Tern.Cli.Client;

/// <summary>/v1/schedules.</summary>
internal sealed partial class TernClient
{
    public Task<JsonNode> CreateScheduleAsync(JsonObject body, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Post, "/v1/schedules", JsonBody(body), ct);

    public Task<JsonNode> ListSchedulesAsync(string? function, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Get, "/v1/schedules" + (function is null ? "" : "?function=" + Uri.EscapeDataString(function)), null, ct);

    public Task<JsonNode> UpdateScheduleAsync(string id, JsonObject body, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Patch, SchedulePath(id), JsonBody(body), ct);

    public async Task DeleteScheduleAsync(string id, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Delete, SchedulePath(id), null, ct).ConfigureAwait(false);
    }

    private static ByteArrayContent JsonBody(JsonObject body)
    {
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private static string SchedulePath(string id) => "/v1/schedules/" + Uri.EscapeDataString(id);
}
