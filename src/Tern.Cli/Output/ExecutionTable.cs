using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tern.Cli.Output;

/// <summary>How an execution record is shown in table form: KEY VALUE pairs for `exec get`, a row for
/// `dead-letters list`, and the one-line status updates of `exec get --watch`.</summary>
internal static class ExecutionTable
{
    public static readonly string[] DeadLetterHeaders = ["EXECUTION ID", "ATTEMPT", "ERROR CODE", "FINISHED"];
    public static readonly string[] ListHeaders = ["EXECUTION ID", "FUNCTION", "VERSION", "STATUS", "CREATED", "DURATION", "ERROR CODE"];

    /// <summary>The order fields are listed in; any field the server adds later is appended after these.</summary>
    private static readonly string[] KnownFields =
    [
        "executionId", "function", "status", "attempt", "output", "error", "createdAt", "startedAt", "finishedAt", "durationMs",
        "coldStart", "traceId", "deadLetter", "version",
    ];

    public static IEnumerable<string[]> Details(JsonObject execution)
    {
        foreach (var key in KnownFields)
            if (execution.TryGetPropertyValue(key, out var value)) yield return [key, Detail(key, value)];
        foreach (var (key, value) in execution)
            if (!KnownFields.Contains(key)) yield return [key, Detail(key, value)];
    }

    public static string[] DeadLetterRow(JsonNode? execution) =>
    [
        FunctionView.Text(execution?["executionId"]),
        FunctionView.Text(execution?["attempt"]),
        FunctionView.Text(execution?["error"]?["code"]),
        Timestamp(execution?["finishedAt"], withMilliseconds: false),
    ];

    public static string[] ListRow(JsonNode? execution) =>
    [
        FunctionView.Text(execution?["executionId"]),
        FunctionView.Text(execution?["function"]),
        FunctionView.Text(execution?["version"]),
        FunctionView.Text(execution?["status"]),
        Timestamp(execution?["createdAt"], withMilliseconds: true),
        execution?["durationMs"] is JsonValue d && d.GetValueKind() == JsonValueKind.Number
            ? d.GetValue<double>().ToString("0.#", CultureInfo.InvariantCulture) + "ms" : "-",
        FunctionView.Text(execution?["error"]?["code"]),
    ];

    /// <summary>"running (attempt 1)"; a queued retry also names what failed the previous attempt.</summary>
    public static string StatusLine(JsonNode? execution)
    {
        var status = FunctionView.Text(execution?["status"]);
        var line = $"{status} (attempt {FunctionView.Text(execution?["attempt"])})";
        if (status == "queued" && execution?["error"] is JsonObject error)
            line += ": previous attempt failed: " + ErrorText(error);
        return line;
    }

    /// <summary>What identifies a status change while watching: the status and the attempt (a retry is a change too).</summary>
    public static string StatusKey(JsonNode? execution) =>
        FunctionView.Text(execution?["status"]) + "/" + FunctionView.Text(execution?["attempt"]);

    private static string Detail(string key, JsonNode? value) => key switch
    {
        "error" when value is JsonObject error => ErrorText(error),
        "createdAt" or "startedAt" or "finishedAt" => Timestamp(value, withMilliseconds: true),
        "durationMs" when value is JsonValue v && v.GetValueKind() == JsonValueKind.Number => FunctionView.Text(value) + "ms",
        _ => FunctionView.Text(value),
    };

    /// <summary>"code: message", leaving out what the server did not send.</summary>
    private static string ErrorText(JsonObject error)
    {
        var parts = new List<string>();
        if (error["code"] is { } code) parts.Add(FunctionView.Text(code));
        if (error["message"] is { } message) parts.Add(FunctionView.Text(message).ReplaceLineEndings(" "));
        return parts.Count == 0 ? "-" : string.Join(": ", parts);
    }

    /// <summary>UTC; executions are short, so their details keep the milliseconds.</summary>
    private static string Timestamp(JsonNode? value, bool withMilliseconds)
    {
        var text = FunctionView.Text(value);
        return text != "-" && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.UtcDateTime.ToString(withMilliseconds ? "yyyy-MM-dd HH:mm:ss.fff'Z'" : "yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : text;
    }
}
