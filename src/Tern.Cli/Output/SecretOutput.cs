using System.Text.Json.Nodes;

namespace Tern.Cli.Output;

/// <summary>Secrets as the CLI shows them: name, scope and times; the daemon never sends a value.</summary>
internal static class SecretOutput
{
    public static readonly string[] Headers = ["NAME", "FUNCTIONS", "CREATED", "UPDATED"];

    /// <summary>GET /v1/secrets: {"secrets":[...]}, one row per secret in table form; json/yaml as received.</summary>
    public static void WriteList(OutputFormat format, TextWriter stdout, JsonNode list)
    {
        if (OutputWriter.WriteStructured(format, stdout, list)) return;
        var secrets = (list as JsonObject)?["secrets"] as JsonArray ?? new JsonArray();
        TableWriter.Write(stdout, Headers, secrets.Select(s => (IReadOnlyList<string>)
            [FunctionView.Text(s?["name"]), Scope(s?["functions"]), FunctionView.Text(s?["createdAt"]), FunctionView.Text(s?["updatedAt"])]));
    }

    /// <summary>PUT or PATCH /v1/secrets/NAME: "secret NAME set; functions: ..." in table form; json/yaml as received.</summary>
    public static void WriteSet(OutputFormat format, TextWriter stdout, JsonNode secret)
    {
        if (OutputWriter.WriteStructured(format, stdout, secret)) return;
        stdout.WriteLine($"secret {FunctionView.Text(secret["name"])} set; functions: {Scope(secret["functions"])}");
    }

    /// <summary>"a,b" or "(none)": an empty scope is shown, since it means no function can use the secret.</summary>
    public static string Scope(JsonNode? functions) =>
        functions is JsonArray { Count: > 0 } list ? string.Join(',', list.Select(f => FunctionView.Text(f))) : "(none)";
}
