using System.Text.Json.Nodes;

namespace Tern.Cli.Output;

/// <summary>API keys as the CLI shows them. The key itself appears only in what `apikey create` prints.</summary>
internal static class ApiKeyOutput
{
    public static readonly string[] Headers = ["ID", "NAME", "ROLE", "CREATED", "REVOKED", "RATE/S", "CREATED BY"];

    /// <summary>POST /v1/api-keys: table form prints only the key on stdout (so `key=$(tern apikey create ci)`
    /// works) and a note on stderr; json/yaml the whole response.</summary>
    public static void WriteCreated(OutputFormat format, TextWriter stdout, TextWriter stderr, JsonNode created)
    {
        if (OutputWriter.WriteStructured(format, stdout, created)) return;
        stderr.WriteLine($"created {FunctionView.Text(created["role"])} API key {FunctionView.Text(created["name"])} (id {FunctionView.Text(created["id"])}); it is shown only this once:");
        stdout.WriteLine(FunctionView.Text(created["key"]));
    }

    /// <summary>GET /v1/api-keys: {"apiKeys":[...]}, one row per key in table form.</summary>
    public static void WriteList(OutputFormat format, TextWriter stdout, JsonNode list)
    {
        if (OutputWriter.WriteStructured(format, stdout, list)) return;
        var keys = (list as JsonObject)?["apiKeys"] as JsonArray ?? new JsonArray();
        TableWriter.Write(stdout, Headers, keys.Select(k => (IReadOnlyList<string>)
        [
            FunctionView.Text(k?["id"]), FunctionView.Text(k?["name"]), FunctionView.Text(k?["role"]), FunctionView.Text(k?["createdAt"]),
            FunctionView.Text(k?["revokedAt"]), FunctionView.Text(k?["rateLimitPerSecond"]), FunctionView.Text(k?["createdBy"]),
        ]));
    }
}
