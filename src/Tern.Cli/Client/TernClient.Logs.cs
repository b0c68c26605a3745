using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Tern.Cli.Client;

/// <summary>GET /v1/functions/{name}/logs: stored lines, or (follow) the server-sent event stream of new ones.</summary>
internal sealed partial class TernClient
{
    public Task<JsonNode> GetLogsAsync(string name, string? executionId, string? since, int? tail, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Get, LogsPath(name, executionId, since, tail, follow: false), null, ct);

    /// <summary>Each line as the daemon sends it, until <paramref name="ct"/> is cancelled or the daemon ends the stream.</summary>
    public async IAsyncEnumerable<JsonNode> FollowLogsAsync(string name, string? executionId, int? tail, [EnumeratorCancellation] CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _base + LogsPath(name, executionId, null, tail, follow: true));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.Accept.ParseAdd("application/problem+json");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (IsUnreachable(e))
        {
            throw new DaemonUnreachableException(ServerUrl, e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                throw new TernApiException(response.StatusCode, ProblemFormatter.Format(response.StatusCode, body));
            }
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false));
            while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal)) continue; // comments (heartbeats), blank separators
                if (JsonNode.Parse(line.AsSpan(5).Trim().ToString()) is { } node) yield return node;
            }
        }
    }

    private static string LogsPath(string name, string? executionId, string? since, int? tail, bool follow)
    {
        var query = new List<string>();
        if (executionId is not null) query.Add("executionId=" + Uri.EscapeDataString(executionId));
        if (since is not null) query.Add("since=" + Uri.EscapeDataString(since));
        if (tail is not null) query.Add("tail=" + tail.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (follow) query.Add("follow=true");
        return FunctionPath(name) + "/logs" + (query.Count == 0 ? "" : "?" + string.Join('&', query));
    }
}
