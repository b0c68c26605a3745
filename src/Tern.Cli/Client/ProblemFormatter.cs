using System.Net;
using System.Text.Json;

namespace Tern.Cli.Client;

/// <summary>Turns an error response into the single line the CLI prints after `error: `.</summary>
internal static class ProblemFormatter
{
    private const int MaxRawBodyChars = 200;

    /// <summary>"title: detail (field: msg; field2: msg)" for a problem body; "HTTP 502 Bad Gateway: body" otherwise.</summary>
    public static string Format(HttpStatusCode status, string? body)
    {
        var problem = TryParse(body);
        if (problem is null || (problem.Title is null && problem.Detail is null))
        {
            var head = $"HTTP {(int)status} {ReasonPhrase(status)}";
            var text = OneLine(body ?? "");
            if (text.Length > MaxRawBodyChars) text = text[..MaxRawBodyChars] + "...";
            return text.Length == 0 ? head : $"{head}: {text}";
        }

        var message = OneLine(problem.Title ?? ReasonPhrase(status));
        var errors = problem.Errors ?? [];
        // The daemon's validation detail is just the field messages joined; showing them twice only adds noise.
        var detailRepeatsErrors = errors.Count > 0 && problem.Detail == string.Join(" ", errors.SelectMany(e => e.Value));
        if (!string.IsNullOrWhiteSpace(problem.Detail) && !detailRepeatsErrors) message += ": " + OneLine(problem.Detail);
        if (errors.Count > 0)
        {
            var fields = errors.SelectMany(e => e.Value.Length == 0 ? [e.Key] : e.Value.Select(m => $"{e.Key}: {OneLine(m)}"));
            message += " (" + string.Join("; ", fields) + ")";
        }
        return message;
    }

    private static ProblemBody? TryParse(string? body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.TrimStart()[0] != '{') return null;
        try
        {
            return JsonSerializer.Deserialize(body, CliJsonContext.Default.ProblemBody);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string ReasonPhrase(HttpStatusCode status)
    {
        // HttpResponseMessage knows the standard reason phrases; there is no public table for them.
        using var response = new HttpResponseMessage(status);
        return response.ReasonPhrase ?? status.ToString();
    }

    /// <summary>The contract is one line per error, so embedded newlines become spaces.</summary>
    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
