using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tern.Api.Problems;
using Tern.Json;

namespace Tern.Api.Endpoints;

/// <summary>Turns an :invoke or :enqueue body into the event. A JSON Content-Type (application/json, *+json) must carry
/// JSON. No Content-Type, text/plain (what fetch() and many HTTP libraries send for a string) or
/// application/x-www-form-urlencoded (curl -d's default) carries JSON when the body parses as JSON. Anything else
/// (application/octet-stream, image/png, text/csv, a form or text that is not JSON, ...) reaches the handler as
/// API Gateway hands Lambda a binary body: <c>{"body": "&lt;base64&gt;", "isBase64Encoded": true, "headers":
/// {"content-type": "..."}}</c>. Only the content type is passed on: other headers may hold the caller's API key.</summary>
internal static class EventBody
{
    private enum Kind { Json, JsonIfItParses, Binary }

    /// <summary>The event, or a problem (malformed JSON under a JSON type; a wrapped body over the limit).</summary>
    public static (RawJson Input, IResult? Problem) From(byte[] body, string? contentType, int limit)
    {
        if (body.Length == 0) return (RawJson.EmptyObject, null);
        var kind = Classify(contentType);
        if (kind != Kind.Binary)
        {
            if (RawJson.TryCreate(body, out var input, out var error)) return (input, null);
            if (kind == Kind.Json)
                return (default, ProblemResults.BadRequest("Malformed event",
                    $"the event must be JSON (Content-Type {contentType}): {error}; send other bytes with another Content-Type, such as application/octet-stream, and the handler gets them base64-encoded"));
        }
        var wrapped = Wrap(body, contentType);
        if (wrapped.Length > limit)
            return (default, ProblemResults.TooLarge(
                $"a body that is not JSON reaches the handler base64-encoded, and encoded it may be at most {limit} bytes: send at most {(limit - 256) / 4 * 3} bytes"));
        return (RawJson.FromTrusted(wrapped), null);
    }

    private static Kind Classify(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var parsed) || parsed.MediaType is not { } media)
            return Kind.JsonIfItParses;
        if (media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
            return Kind.Json;
        return media.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || media.Equals("text/plain", StringComparison.OrdinalIgnoreCase) ? Kind.JsonIfItParses : Kind.Binary;
    }

    private static byte[] Wrap(byte[] body, string? contentType)
    {
        var buffer = new ArrayBufferWriter<byte>(body.Length / 3 * 4 + 256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBase64String("body"u8, body);
            json.WriteBoolean("isBase64Encoded"u8, true);
            json.WriteStartObject("headers"u8);
            if (!string.IsNullOrEmpty(contentType)) json.WriteString("content-type"u8, contentType);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
