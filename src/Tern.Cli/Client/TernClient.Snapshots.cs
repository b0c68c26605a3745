using System.Text.Json.Nodes;

namespace Tern.Cli.Client;

/// <summary>/v1/functions/{name}/snapshots (microVM snapshots).</summary>
internal sealed partial class TernClient
{
    public Task<JsonNode> ListSnapshotsAsync(string name, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Get, FunctionPath(name) + "/snapshots", null, ct);

    public Task<JsonNode> CreateSnapshotAsync(string name, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Post, FunctionPath(name) + "/snapshots", null, ct);

    public Task<JsonNode> DeleteSnapshotsAsync(string name, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Delete, FunctionPath(name) + "/snapshots", null, ct);
}
