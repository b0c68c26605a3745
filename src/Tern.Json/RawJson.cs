using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tern.Json;

/// <summary>One JSON value kept as its UTF-8 text. Events and outputs are opaque to the platform: they travel from
/// the HTTP body to the worker and back into the response and the execution record as the same bytes, checked once
/// where they enter (<see cref="TryCreate"/>) and never parsed into a document on the way.</summary>
[JsonConverter(typeof(RawJsonConverter))]
public readonly struct RawJson : IEquatable<RawJson>
{
    private RawJson(ReadOnlyMemory<byte> utf8) => Utf8 = utf8;

    /// <summary>The value's UTF-8 JSON text; empty only for <c>default</c>.</summary>
    public ReadOnlyMemory<byte> Utf8 { get; }

    public static RawJson EmptyObject { get; } = new("{}"u8.ToArray());

    public static RawJson Null { get; } = new("null"u8.ToArray());

    /// <summary>Wraps bytes the caller guarantees to be one valid JSON value (they came from a validated source).</summary>
    public static RawJson FromTrusted(ReadOnlyMemory<byte> utf8) => new(utf8);

    /// <summary>Checks that <paramref name="utf8"/> is exactly one JSON value in valid UTF-8 (whitespace around it is
    /// allowed) and wraps it without copying; otherwise returns false with the reason.</summary>
    public static bool TryCreate(ReadOnlyMemory<byte> utf8, out RawJson json, out string? error)
    {
        json = default;
        if (!JsonText.Validate(utf8.Span, out error)) return false;
        json = new RawJson(utf8);
        return true;
    }

    /// <summary>Parses text that must be JSON; throws JsonException otherwise (tests, configuration, the CLI).</summary>
    public static RawJson Parse(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return TryCreate(bytes, out var json, out var error) ? json : throw new JsonException(error);
    }

    public static RawJson FromElement(JsonElement element) =>
        new(element.ValueKind == JsonValueKind.Undefined ? Null.Utf8 : JsonMarshal.GetRawUtf8Value(element).ToArray());

    /// <summary>A document for code that needs to look inside (tests, the CLI, schedules); the hot path never does.</summary>
    public JsonDocument ToDocument() => JsonDocument.Parse(Utf8.IsEmpty ? Null.Utf8 : Utf8);

    /// <summary>A self-contained element (its own copy of the document).</summary>
    public JsonElement ToElement()
    {
        using var document = ToDocument();
        return document.RootElement.Clone();
    }

    public override string ToString() => Utf8.IsEmpty ? "null" : Encoding.UTF8.GetString(Utf8.Span);

    public bool Equals(RawJson other) => Utf8.Span.SequenceEqual(other.Utf8.Span);

    public override bool Equals(object? obj) => obj is RawJson other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Utf8.Span);
        return hash.ToHashCode();
    }

    public static bool operator ==(RawJson left, RawJson right) => left.Equals(right);

    public static bool operator !=(RawJson left, RawJson right) => !left.Equals(right);
}
