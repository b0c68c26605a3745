using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tern.Cli.Output;

/// <summary>Prints JSON for people: indented, with non-ASCII and HTML characters left readable instead of \u-escaped.</summary>
internal static class JsonText
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Format(JsonNode? node) => node is null ? "null" : node.ToJsonString(Indented);
}
