using System.Text.Json;

namespace Tern.Api.Tests.BadInput;

/// <summary>The invariants every answer to bad input must hold: never a 5xx; every 4xx an RFC 7807 problem
/// (application/problem+json, a JSON object whose status equals the HTTP status, and a title); and no accepted call
/// reporting that its worker crashed.</summary>
public static class ResponseCheck
{
    /// <summary>What is wrong with the answer, or null if it holds the invariants.</summary>
    /// <param name="status">0 when no answer came.</param>
    public static string? Violation(BadCase @case, int status, string? mediaType, string body)
    {
        if (status == 0) return @case.MayGoUnanswered ? null : "no response (connection dropped or timed out)";
        if (status >= 500) return $"server error {status}";
        if (status < 400) return CrashedWorker(body);
        if (@case.KestrelLevel is not null && body.Length == 0) return null;
        if (mediaType != "application/problem+json") return $"{status} with Content-Type '{mediaType ?? "(none)"}', not application/problem+json";
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return $"{status} problem body is not a JSON object";
            if (!root.TryGetProperty("status", out var problemStatus) || problemStatus.ValueKind != JsonValueKind.Number
                || problemStatus.GetInt32() != status)
                return $"{status} problem body has status {(root.TryGetProperty("status", out var s) ? s.GetRawText() : "(missing)")}";
            if (!root.TryGetProperty("title", out var title) || title.ValueKind != JsonValueKind.String || title.GetString()!.Length == 0)
                return $"{status} problem body has no title";
            return null;
        }
        catch (JsonException e)
        {
            return $"{status} problem body is not JSON: {e.Message}";
        }
    }

    /// <summary>A call the API accepted must not kill the worker that ran it: that is the platform failing (and a way
    /// for any client to force cold starts), not the handler.</summary>
    private static string? CrashedWorker(string body)
    {
        if (!body.Contains("WorkerCrashed", StringComparison.Ordinal)) return null;
        try
        {
            // Deep: the echoed event may be nested far beyond the default 64 levels.
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 1024 });
            return document.RootElement is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("error", out var error)
                   && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) && code.ValueEquals("WorkerCrashed")
                ? "the call was accepted, and its worker crashed"
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
