using System.Text.Json;

namespace Tern.Bootstrap;

/// <summary>Writes protocol lines to the real stdout, one whole line at a time.</summary>
internal sealed class ProtocolWriter(Stream stdout)
{
    private readonly Lock _lock = new();

    public void WriteReady(string? errorType, string? errorMessage) => Write(json =>
    {
        json.WriteBoolean("ready", errorType is null);
        if (errorType is null) return;
        json.WriteStartObject("error");
        json.WriteString("type", errorType);
        json.WriteString("message", errorMessage);
        json.WriteEndObject();
    });

    /// <summary><paramref name="output"/> is already-serialized JSON (null for no output).</summary>
    public void WriteOutput(string? requestId, byte[]? output) => Write(json =>
    {
        json.WriteString("requestId", requestId);
        json.WritePropertyName("output");
        if (output is null) json.WriteNullValue();
        else json.WriteRawValue(output, skipInputValidation: true);
    });

    /// <summary><paramref name="stack"/> is the text (for Tern's message), <paramref name="frames"/> Lambda's stackTrace list.</summary>
    public void WriteError(string? requestId, string type, string message, string stack, string[] frames) => Write(json =>
    {
        json.WriteString("requestId", requestId);
        json.WriteStartObject("error");
        json.WriteString("type", type);
        json.WriteString("message", message);
        json.WriteString("stack", stack);
        json.WriteStartArray("stackTrace");
        foreach (var frame in frames) json.WriteStringValue(frame);
        json.WriteEndArray();
        json.WriteEndObject();
    });

    private void Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        lock (_lock)
        {
            stdout.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
            stdout.Flush();
        }
    }
}
