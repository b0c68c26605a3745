using System.Buffers;
using System.Text.Json;
using Tern.Json;

namespace Tern.Agent.Protocol;

/// <summary>Turns messages into frame payloads and back. <c>exec</c> and <c>resp</c> run once per call on both sides,
/// so they are written and read by hand: one pass, the event and output copied as raw bytes, no document built.
/// The rare messages (init, ping, stop) go through the source-generated serializer. Both produce the same JSON
/// (docs/agent-protocol.md), which the tests check in both directions.</summary>
public static class AgentFrameCodec
{
    /// <summary>Writes <paramref name="message"/>'s JSON with <paramref name="writer"/> (already Reset to its output).</summary>
    public static void Encode(Utf8JsonWriter writer, AgentMessage message)
    {
        switch (message)
        {
            case ExecMessage exec:
                WriteExec(writer, exec);
                break;
            case RespMessage resp:
                WriteResp(writer, resp);
                break;
            default:
                JsonSerializer.Serialize(writer, message, AgentJsonContext.Default.AgentMessage);
                break;
        }
        writer.Flush();
    }

    /// <summary>Reads one payload. Throws JsonException (or InvalidDataException) for a payload that is not a message.</summary>
    public static AgentMessage Decode(ReadOnlySpan<byte> payload)
    {
        var fields = new HotFields();
        // An event or output may be JsonText.MaxDepth deep, and the frame holds it one level down ("input", "output"):
        // at JsonText.MaxDepth itself, a call the API had accepted killed its worker.
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = JsonText.MaxDepth + 1 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new InvalidDataException("an agent frame must hold a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueIsEscaped || !fields.TryRead(ref reader, payload))
            {
                // Something only the general serializer understands (an escaped name, a field of another message).
                return Fallback(payload);
            }
        }
        return fields.Type switch
        {
            HotType.Exec => fields.ToExec(),
            HotType.Resp => fields.ToResp(),
            _ => Fallback(payload),
        };
    }

    private static AgentMessage Fallback(ReadOnlySpan<byte> payload) =>
        JsonSerializer.Deserialize(payload, AgentJsonContext.Default.AgentMessage) ?? throw new InvalidDataException("empty agent frame");

    private static void WriteExec(Utf8JsonWriter w, ExecMessage exec)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "exec"u8);
        w.WriteString("requestId"u8, exec.RequestId);
        w.WritePropertyName("input"u8);
        WriteRaw(w, exec.Input);
        w.WriteNumber("timeoutMs"u8, exec.TimeoutMs);
        if (exec.TraceId is not null) w.WriteString("traceId"u8, exec.TraceId);
        if (exec.TraceParent is not null) w.WriteString("traceParent"u8, exec.TraceParent);
        w.WriteEndObject();
    }

    private static void WriteResp(Utf8JsonWriter w, RespMessage resp)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "resp"u8);
        w.WriteString("requestId"u8, resp.RequestId);
        w.WriteString("status"u8, resp.Status);
        if (resp.Output is { } output)
        {
            w.WritePropertyName("output"u8);
            WriteRaw(w, output);
        }
        if (resp.Error is { } error)
        {
            w.WriteStartObject("error"u8);
            w.WriteString("code"u8, error.Code);
            w.WriteString("message"u8, error.Message);
            if (error.ErrorType is not null) w.WriteString("errorType"u8, error.ErrorType);
            if (error.ErrorMessage is not null) w.WriteString("errorMessage"u8, error.ErrorMessage);
            if (error.StackTrace is { } frames)
            {
                w.WriteStartArray("stackTrace"u8);
                foreach (var frame in frames) w.WriteStringValue(frame);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteNumber("durationMs"u8, resp.DurationMs);
        if (resp.StdoutTail is not null) w.WriteString("stdoutTail"u8, resp.StdoutTail);
        if (resp.StderrTail is not null) w.WriteString("stderrTail"u8, resp.StderrTail);
        if (resp.Handoff is { } handoff) w.WriteBoolean("handoff"u8, handoff);
        w.WriteEndObject();
    }

    private static void WriteRaw(Utf8JsonWriter w, RawJson value)
    {
        if (value.Utf8.IsEmpty) w.WriteNullValue();
        else w.WriteRawValue(value.Utf8.Span, skipInputValidation: true);
    }

    private enum HotType { Unknown, Exec, Resp, Other }

    /// <summary>The fields of exec and resp, gathered in one pass whatever their order ("type" may come anywhere).</summary>
    private ref struct HotFields
    {
        public HotType Type;
        private string? _requestId, _traceId, _traceParent, _status, _stdoutTail, _stderrTail;
        private byte[]? _raw; // input (exec) or output (resp)
        private bool _hasRaw;
        private int _timeoutMs;
        private double _durationMs;
        private AgentError? _error;
        private bool? _handoff;

        /// <summary>Reads the value of the property the reader is on; false for a property neither message has.</summary>
        public bool TryRead(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("type"u8))
            {
                Type = reader.ValueTextEquals("exec"u8) ? HotType.Exec : reader.ValueTextEquals("resp"u8) ? HotType.Resp : HotType.Other;
                return Type != HotType.Other;
            }
            if (name.SequenceEqual("requestId"u8)) _requestId = reader.GetString();
            else if (name.SequenceEqual("input"u8) || name.SequenceEqual("output"u8)) ReadRaw(ref reader, payload);
            else if (name.SequenceEqual("timeoutMs"u8)) _timeoutMs = reader.GetInt32();
            else if (name.SequenceEqual("traceId"u8)) _traceId = reader.GetString();
            else if (name.SequenceEqual("traceParent"u8)) _traceParent = reader.GetString();
            else if (name.SequenceEqual("status"u8)) _status = Status(ref reader);
            else if (name.SequenceEqual("durationMs"u8)) _durationMs = reader.GetDouble();
            else if (name.SequenceEqual("stdoutTail"u8)) _stdoutTail = reader.GetString();
            else if (name.SequenceEqual("stderrTail"u8)) _stderrTail = reader.GetString();
            else if (name.SequenceEqual("error"u8)) _error = ReadError(ref reader);
            else if (name.SequenceEqual("handoff"u8)) _handoff = reader.TokenType == JsonTokenType.True;
            else return false;
            return true;
        }

        private void ReadRaw(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var end = (int)reader.BytesConsumed;
            _raw = payload[start..end].ToArray();
            _hasRaw = true;
        }

        private static string? Status(ref Utf8JsonReader reader) =>
            reader.ValueTextEquals("success"u8) ? "success"
            : reader.ValueTextEquals("error"u8) ? "error"
            : reader.ValueTextEquals("timeout"u8) ? "timeout"
            : reader.GetString();

        private static AgentError? ReadError(ref Utf8JsonReader reader)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("error must be an object");
            var error = new AgentError();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCode = reader.ValueTextEquals("code"u8);
                var isMessage = reader.ValueTextEquals("message"u8);
                var isType = reader.ValueTextEquals("errorType"u8);
                var isErrorMessage = reader.ValueTextEquals("errorMessage"u8);
                var isStack = reader.ValueTextEquals("stackTrace"u8);
                reader.Read();
                if (isCode) error.Code = reader.GetString() ?? "";
                else if (isMessage) error.Message = reader.GetString() ?? "";
                else if (isType) error.ErrorType = reader.GetString();
                else if (isErrorMessage) error.ErrorMessage = reader.GetString();
                else if (isStack) error.StackTrace = ReadStrings(ref reader);
                else reader.Skip();
            }
            return error;
        }

        private static string[]? ReadStrings(ref Utf8JsonReader reader)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("stackTrace must be an array of strings");
            var frames = new List<string>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) frames.Add(reader.GetString() ?? "");
            return [.. frames];
        }

        public readonly ExecMessage ToExec() => new()
        {
            RequestId = _requestId ?? "", Input = _hasRaw ? RawJson.FromTrusted(_raw!) : default,
            TimeoutMs = _timeoutMs, TraceId = _traceId, TraceParent = _traceParent,
        };

        public readonly RespMessage ToResp() => new()
        {
            RequestId = _requestId ?? "", Status = _status ?? "success",
            Output = _hasRaw && !IsNull(_raw!) ? RawJson.FromTrusted(_raw!) : null,
            Error = _error, DurationMs = _durationMs, StdoutTail = _stdoutTail, StderrTail = _stderrTail, Handoff = _handoff,
        };

        private static bool IsNull(byte[] raw) => raw.AsSpan().SequenceEqual("null"u8);
    }
}
