using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tern.Cli.Output;

/// <summary>How a function's JSON is shown in table form: a row for `list`, KEY VALUE pairs for get/create/update.</summary>
internal static class FunctionView
{
    public static readonly string[] ListHeaders = ["NAME", "RUNTIME", "HANDLER", "MEMORY", "TIMEOUT", "MODE", "REVISION", "UPDATED"];

    /// <summary>The order fields are listed in; any field the server adds later is appended after these.</summary>
    private static readonly string[] KnownFields =
    [
        "name", "runtime", "handler", "codeHash", "codeFileName", "memoryMb", "vcpus", "timeoutMs", "env", "mode",
        "minReplicas", "maxReplicas", "concurrency", "instanceConcurrency", "queueSize", "maxRetries", "rateLimitPerSecond", "isolation", "network", "createdAt", "updatedAt", "revision",
    ];

    /// <summary>The revision under its deprecated name: shown only by a daemon too old to send "revision".</summary>
    private const string LegacyRevision = "version";

    public static string[] ListRow(JsonNode? function) =>
    [
        Text(function?["name"]),
        Text(function?["runtime"]),
        Text(function?["handler"]),
        function?["memoryMb"] is { } memory ? Text(memory) + "MB" : "-",
        function?["timeoutMs"] is { } timeout ? Duration(timeout) : "-",
        Text(function?["mode"]),
        Text(Revision(function)),
        Timestamp(function?["updatedAt"]),
    ];

    public static IEnumerable<string[]> Details(JsonObject function)
    {
        foreach (var key in KnownFields)
            if (function.TryGetPropertyValue(key, out var value)) yield return [key, Detail(key, value)];
        foreach (var (key, value) in function)
            if (!KnownFields.Contains(key) && !(key == LegacyRevision && function.ContainsKey("revision"))) yield return [key, Detail(key, value)];
    }

    /// <summary>The configuration revision (from "version" when the daemon predates the rename).</summary>
    public static JsonNode? Revision(JsonNode? function) => function?["revision"] ?? function?[LegacyRevision];

    private static string Detail(string key, JsonNode? value) => key switch
    {
        "env" when value is JsonObject env => env.Count == 0 ? "-" : string.Join(", ", env.Select(e => $"{e.Key}={Text(e.Value)}")),
        "createdAt" or "updatedAt" => Timestamp(value),
        "network" when value is JsonObject network => network["allow"] is JsonArray { Count: > 0 } allow
            ? $"{Text(network["mode"])} (allow {string.Join(", ", allow.Select(Text))})"
            : Text(network["mode"]),
        _ => Text(value),
    };

    /// <summary>A cell's text: strings unquoted, nested values as compact JSON, absent/null as "-".</summary>
    public static string Text(JsonNode? value) => value switch
    {
        null => "-",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Null => "-",
        _ => value.ToJsonString(),
    };

    /// <summary>"30s" for whole seconds, "1500ms" otherwise.</summary>
    private static string Duration(JsonNode value) =>
        value is JsonValue number && number.GetValueKind() == JsonValueKind.Number && number.TryGetValue<long>(out var ms)
            ? ms % 1000 == 0 ? $"{ms / 1000}s" : $"{ms}ms"
            : Text(value);

    /// <summary>UTC to the second: the server's full ISO timestamps are too wide for a table.</summary>
    private static string Timestamp(JsonNode? value)
    {
        var text = Text(value);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : text;
    }
}
