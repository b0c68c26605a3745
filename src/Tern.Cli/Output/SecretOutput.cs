using System.Text.Json.Nodes;

namespace Tern.Cli.Output;

/// <summary>Secrets as the CLI shows them: name and times; the daemon never sends a value.</summary>
internal static class SecretOutput
{
    public static readonly string[] Headers = ["NAME", "CREATED", "UPDATED"];

    /// <summary>GET /v1/secrets: {"secrets":[...]}, one row per secret in table form; json/yaml as received.</summary>
    public static void WriteList(OutputFormat format, TextWriter stdout, JsonNode list)
    {
        if (OutputWriter.WriteStructured(format, stdout, list)) return;
        var secrets = (list as JsonObject)?["secrets"] as JsonArray ?? new JsonArray();
        TableWriter.Write(stdout, Headers, secrets.Select(s => (IReadOnlyList<string>)
            [FunctionView.Text(s?["name"]), FunctionView.Text(s?["createdAt"]), FunctionView.Text(s?["updatedAt"])]));
    }

    /// <summary>PUT /v1/secrets/NAME: "secret NAME set" in table form; json/yaml as received.</summary>
    public static void WriteSet(OutputFormat format, TextWriter stdout, JsonNode secret)
    {
        if (OutputWriter.WriteStructured(format, stdout, secret)) return;
        stdout.WriteLine($"secret {FunctionView.Text(secret["name"])} set");
    }
}
