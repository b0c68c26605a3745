using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tern.Core.Functions;

/// <summary>Reads <c>"none"</c>, <c>"egress"</c> or <c>{"mode": ..., "allow": [...]}</c>; always writes the object.
/// The mode's value and the allow entries are checked by <see cref="FunctionValidator"/> (a 400 naming the field);
/// only the shape is checked here.</summary>
public sealed class FunctionNetworkJsonConverter : JsonConverter<FunctionNetwork>
{
    private const string Shape = "network must be \"none\", \"egress\" or an object {\"mode\": \"egress\", \"allow\": [\"CIDR or address[:port]\", ...]}";

    public override FunctionNetwork Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return new FunctionNetwork { Mode = reader.GetString()! };
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException(Shape);
        string? mode = null;
        List<string>? allow = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString();
            reader.Read();
            switch (key)
            {
                case "mode" when reader.TokenType == JsonTokenType.String:
                    mode = reader.GetString();
                    break;
                case "allow" when reader.TokenType == JsonTokenType.StartArray:
                    allow = [];
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.String)
                            throw new JsonException("network.allow must be an array of strings (CIDR or address, optionally :port)");
                        allow.Add(reader.GetString()!);
                    }
                    break;
                case "mode":
                    throw new JsonException("network.mode must be a string: \"none\" or \"egress\"");
                case "allow":
                    throw new JsonException("network.allow must be an array of strings (CIDR or address, optionally :port)");
                default:
                    throw new JsonException($"network has no field '{key}'; it takes mode and allow");
            }
        }
        // {"allow": [...]} alone means egress: a list of addresses to reach makes no sense without a network.
        return new FunctionNetwork { Mode = mode ?? (allow is null ? FunctionNetwork.NoneMode : FunctionNetwork.EgressMode), Allow = allow ?? [] };
    }

    public override void Write(Utf8JsonWriter writer, FunctionNetwork value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("mode", value.Mode);
        writer.WriteStartArray("allow");
        foreach (var entry in value.Allow) writer.WriteStringValue(entry);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
