using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tern.Cli.Client;

/// <summary>/healthz/ready, whose 503 (not ready) still carries the checks.</summary>
internal sealed partial class TernClient
{
    public async Task<(bool Ready, JsonNode Body)> ReadinessAsync(CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(_base + "/healthz/ready", ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (IsUnreachable(e))
        {
            throw new DaemonUnreachableException(ServerUrl, e);
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            try
            {
                return (response.IsSuccessStatusCode, JsonNode.Parse(body) ?? new JsonObject());
            }
            catch (JsonException)
            {
                throw new TernApiException(response.StatusCode, $"unexpected readiness answer from {ServerUrl}: {(int)response.StatusCode}");
            }
        }
    }
}
