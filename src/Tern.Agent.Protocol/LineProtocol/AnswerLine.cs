using System.Text;
using System.Text.Json;

using Tern.Json;

namespace Tern.Agent.Protocol.LineProtocol;

/// <summary>One line a persistent handler wrote to stdout, read in a single pass without building a document:
/// <c>{"ready":true}</c> (or <c>{"ready":false,"error":..}</c>) first, then <c>{"requestId":..,"output":..}</c> or
/// <c>{"requestId":..,"error":..}</c> per call. Anything else is a protocol violation.</summary>
public readonly ref struct AnswerLine
{
    public const string HandlerFailedCode = "HandlerFailed";
    private const int MessageChars = 4096;

    private AnswerLine(string? requestId, ReadOnlySpan<byte> output, ReadOnlySpan<byte> error, bool? ready)
    {
        RequestId = requestId;
        Output = output;
        Error = error;
        Ready = ready;
    }

    public string? RequestId { get; }
    /// <summary>The raw output value; empty when absent.</summary>
    public ReadOnlySpan<byte> Output { get; }
    /// <summary>The raw error value (an object, a string); empty when absent or null.</summary>
    public ReadOnlySpan<byte> Error { get; }
    /// <summary>The value of "ready", when the line has one.</summary>
    public bool? Ready { get; }

    /// <summary>Reads a line; false (with why) when it is not a JSON object.</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out AnswerLine answer, out string? problem)
    {
        answer = default;
        problem = null;
        string? requestId = null;
        ReadOnlySpan<byte> output = default, error = default;
        bool? ready = null;
        // The output may be JsonText.MaxDepth deep (as the event may), one level down in the line's object.
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = JsonText.MaxDepth + 1 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "not a JSON object";
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("requestId"u8);
                var isOutput = !isId && reader.ValueTextEquals("output"u8);
                var isError = !isId && !isOutput && reader.ValueTextEquals("error"u8);
                var isReady = !isId && !isOutput && !isError && reader.ValueTextEquals("ready"u8);
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                var value = line[start..(int)reader.BytesConsumed];
                if (isId && reader.TokenType == JsonTokenType.String) requestId = ReadString(value);
                else if (isOutput) output = value;
                else if (isError && reader.TokenType != JsonTokenType.Null) error = value;
                else if (isReady) ready = reader.TokenType == JsonTokenType.True;
            }
            if (reader.Read())
            {
                problem = "more than one JSON value on the line";
                return false;
            }
        }
        catch (JsonException)
        {
            problem = "not valid JSON";
            return false;
        }
        if (!System.Text.Unicode.Utf8.IsValid(line))
        {
            problem = "not valid UTF-8";
            return false;
        }
        answer = new AnswerLine(requestId, output, error, ready);
        return true;
    }

    /// <summary>The Resp for this answer: its output (JSON null or absent is no output) or its error as HandlerFailed.</summary>
    public RespMessage ToResp()
    {
        var resp = new RespMessage { RequestId = RequestId ?? "" };
        if (!Error.IsEmpty)
        {
            resp.Status = "error";
            resp.Error = HandlerError(Error);
        }
        else if (!Output.IsEmpty && !Output.SequenceEqual("null"u8))
        {
            resp.Output = RawJson.FromTrusted(Output.ToArray());
        }
        return resp;
    }

    /// <summary>The call's HandlerFailed error from a protocol error value. Its message is "Type: message" then the stack
    /// (or the text of a string). An error object {type, message, stack, stackTrace} also gives Lambda's shape:
    /// errorType, errorMessage and stackTrace (the object's list of frames, else its stack split into lines).</summary>
    public static AgentError HandlerError(ReadOnlySpan<byte> error)
    {
        using var document = JsonDocument.Parse(error.ToArray());
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.String) return new AgentError { Code = HandlerFailedCode, Message = Truncate(root.GetString() ?? "") };
        if (root.ValueKind != JsonValueKind.Object) return new AgentError { Code = HandlerFailedCode, Message = Truncate(root.GetRawText()) };
        var type = StringProperty(root, "type");
        var message = StringProperty(root, "message");
        var stack = StringProperty(root, "stack");
        var text = string.IsNullOrEmpty(type) ? message ?? "" : string.IsNullOrEmpty(message) ? type : $"{type}: {message}";
        if (!string.IsNullOrWhiteSpace(stack)) text += "\n" + stack.TrimEnd();
        return new AgentError
        {
            Code = HandlerFailedCode,
            Message = Truncate(text.Length == 0 ? "the handler reported an error" : text),
            ErrorType = string.IsNullOrEmpty(type) ? "Error" : Truncate(type),
            ErrorMessage = Truncate(message ?? ""),
            StackTrace = Frames(root, stack),
        };
    }

    /// <summary>At most this many frames are kept (a deep recursion's stack would otherwise fill the answer).</summary>
    private const int MaxFrames = 100;

    private static string[] Frames(JsonElement error, string? stack)
    {
        if (error.TryGetProperty("stackTrace", out var list) && list.ValueKind == JsonValueKind.Array)
            return [.. list.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.String).Select(f => Truncate(f.GetString()!)).Take(MaxFrames)];
        if (string.IsNullOrWhiteSpace(stack)) return [];
        return [.. stack.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).Select(Truncate).Take(MaxFrames)];
    }

    private static string ReadString(ReadOnlySpan<byte> quoted)
    {
        var reader = new Utf8JsonReader(quoted);
        reader.Read();
        return reader.GetString()!;
    }

    private static string? StringProperty(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => value.GetRawText(),
        } : null;

    private static string Truncate(string text) => text.Length <= MessageChars ? text : text[..MessageChars] + "...";

    /// <summary>The value of a leading "requestId" string property, found without parsing the (truncated) line.</summary>
    public static string? RequestIdAtStart(ReadOnlySpan<byte> head)
    {
        var text = System.Text.Encoding.UTF8.GetString(head[..Math.Min(head.Length, 1024)]);
        const string key = "\"requestId\"";
        var at = text.IndexOf(key, StringComparison.Ordinal);
        if (at < 0) return null;
        var colon = text.IndexOf(':', at + key.Length);
        if (colon < 0) return null;
        var open = text.IndexOf('"', colon + 1);
        if (open < 0 || text.AsSpan(colon + 1, open - colon - 1).Trim().Length != 0) return null;
        var close = text.IndexOf('"', open + 1);
        return close < 0 ? null : text[(open + 1)..close];
    }

    /// <summary>The start of a line, for messages about it.</summary>
    public static string Preview(ReadOnlySpan<byte> bytes, int chars = 200)
    {
        var text = Encoding.UTF8.GetString(bytes.Length > chars * 4 ? bytes[..(chars * 4)] : bytes).Trim();
        return text.Length <= chars ? text : text[..chars] + "...";
    }
}
