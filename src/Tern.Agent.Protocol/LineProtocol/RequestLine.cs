using System.Buffers;
using System.Text.Json;


namespace Tern.Agent.Protocol.LineProtocol;

/// <summary>The line a persistent handler reads for one call: <c>{"requestId":..,"event":..,"context":{..}}</c> and a
/// newline. requestId comes first, so even a handler with no JSON parser (a shell script) can pick it out. The event
/// is copied as the bytes the caller sent.</summary>
public sealed class RequestLine(InitMessage init)
{
    private readonly string _version = init.Version;

    public ReadOnlyMemory<byte> Build(ExecMessage exec, long deadlineMs)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + exec.Input.Utf8.Length);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true })) Write(json, exec, deadlineMs);
        buffer.Write("\n"u8);
        return buffer.WrittenMemory;
    }

    /// <summary>Writes the line without its newline with <paramref name="json"/> (already Reset to its output, with
    /// validation skipped) and flushes it.</summary>
    public void Write(Utf8JsonWriter json, ExecMessage exec, long deadlineMs)
    {
        json.WriteStartObject();
        json.WriteString("requestId"u8, exec.RequestId);
        json.WritePropertyName("event"u8);
        if (exec.Input.Utf8.IsEmpty) json.WriteNullValue();
        else json.WriteRawValue(exec.Input.Utf8.Span, skipInputValidation: true);
        json.WriteStartObject("context"u8);
        json.WriteString("requestId"u8, exec.RequestId);
        json.WriteString("functionName"u8, init.FunctionName);
        json.WriteString("functionVersion"u8, _version);
        json.WriteNumber("memoryLimitMb"u8, init.MemoryMb);
        json.WriteNumber("deadlineMs"u8, deadlineMs);
        if (exec.TraceId is null) json.WriteNull("traceId"u8);
        else json.WriteString("traceId"u8, exec.TraceId);
        if (exec.TraceParent is not null) json.WriteString("traceParent"u8, exec.TraceParent);
        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
    }
}
