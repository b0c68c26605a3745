using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Tern.WasmHost;

/// <summary>What a waiting host (<c>--zygote</c>) is told to run: a 4-byte little-endian length, then that many bytes of
/// JSON <c>{"args": [the usual command line], "env": {the module's environment}}</c>, on stdin. Read straight from
/// descriptor 0 with exact-size reads, never through a buffer: in persistent mode the rest of stdin is the module's own
/// (the line protocol), so not one byte past the command may be consumed here.</summary>
internal static class ZygoteCommand
{
    /// <summary>A command is argv and an environment; anything near this is not one.</summary>
    private const int MaxBytes = 8 * 1024 * 1024;

    /// <summary>The command, or null with <paramref name="error"/> (null too when stdin simply closed: the spare was
    /// discarded, which is no error).</summary>
    public static HostArguments? Read(out string? error)
    {
        error = null;
        using var stdin = new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        Span<byte> header = stackalloc byte[4];
        if (!TryReadExactly(stdin, header)) return null;
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length is <= 0 or > MaxBytes)
        {
            error = $"a zygote command of {length} bytes";
            return null;
        }
        var json = new byte[length];
        if (!TryReadExactly(stdin, json))
        {
            error = "stdin closed in the middle of the zygote command";
            return null;
        }
        try
        {
            return Parse(json, out error);
        }
        catch (JsonException e)
        {
            error = $"the zygote command is not valid JSON: {e.Message}";
            return null;
        }
    }

    private static HostArguments? Parse(ReadOnlySpan<byte> json, out string? error)
    {
        var args = new List<string>();
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json);
        Expect(ref reader, JsonTokenType.StartObject);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "args" when reader.TokenType == JsonTokenType.StartArray:
                    while (reader.Read() && reader.TokenType == JsonTokenType.String) args.Add(reader.GetString()!);
                    break;
                case "env" when reader.TokenType == JsonTokenType.StartObject:
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var key = reader.GetString()!;
                        reader.Read();
                        env[key] = reader.TokenType == JsonTokenType.String ? reader.GetString()! : "";
                    }
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        var parsed = HostArguments.Parse([.. args], out error);
        if (parsed is null) return null;
        if (parsed.Zygote || parsed.Compile || parsed.WritePrewarm is not null)
        {
            error = "a zygote command must run a module";
            return null;
        }
        return parsed with { Environment = env };
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (!reader.Read() || reader.TokenType != type) throw new JsonException($"expected {type}");
    }

    private static bool TryReadExactly(Stream stream, Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer[read..]);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }
}
