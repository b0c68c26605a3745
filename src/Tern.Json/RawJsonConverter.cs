using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tern.Json;

/// <summary>Writes a <see cref="RawJson"/> as its bytes, unparsed. Reading keeps a copy of the value's bytes (the
/// serializer's buffer is reused); hot paths read frames with their own readers instead. A JSON null reaches this
/// converter only for a non-nullable <see cref="RawJson"/> (the serializer keeps <c>RawJson?</c> null itself).</summary>
public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return RawJson.Null;
        using var document = JsonDocument.ParseValue(ref reader);
        return RawJson.FromTrusted(JsonMarshal.GetRawUtf8Value(document.RootElement).ToArray());
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options)
    {
        if (value.Utf8.IsEmpty) writer.WriteNullValue();
        else writer.WriteRawValue(value.Utf8.Span, skipInputValidation: true);
    }
}
