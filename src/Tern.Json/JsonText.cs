using System.Text.Json;

namespace Tern.Json;

/// <summary>Validation of JSON text without building a document.</summary>
public static class JsonText
{
    /// <summary>Deep enough for any real event; deeper input is refused rather than risking the stack of a reader.</summary>
    public const int MaxDepth = 128;

    private static readonly JsonReaderOptions Strict = new() { MaxDepth = MaxDepth };

    /// <summary>True when <paramref name="utf8"/> holds exactly one JSON value, in valid UTF-8.</summary>
    public static bool Validate(ReadOnlySpan<byte> utf8, out string? error)
    {
        error = null;
        if (utf8.Trim(" \t\r\n"u8).IsEmpty)
        {
            error = "no JSON value was found";
            return false;
        }
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            error = "the text is not valid UTF-8";
            return false;
        }
        var reader = new Utf8JsonReader(utf8, Strict);
        try
        {
            if (!reader.Read())
            {
                error = "no JSON value was found";
                return false;
            }
            reader.Skip();
            if (reader.Read())
            {
                error = $"unexpected data after the JSON value at byte {reader.TokenStartIndex}";
                return false;
            }
            return true;
        }
        catch (JsonException e)
        {
            error = e.Message;
            return false;
        }
    }
}
