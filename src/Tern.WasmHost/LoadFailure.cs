using System.Text.Json;

namespace Tern.WasmHost;

/// <summary>The line protocol's ready:false line (docs/persistent-mode.md), so a module that cannot be loaded fails
/// Init with HandlerLoadFailed and this message rather than a bare exit.</summary>
internal static class LoadFailure
{
    public static string ReadyLine(string message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBoolean("ready", false);
            json.WriteStartObject("error");
            json.WriteString("type", "WasmLoadError");
            json.WriteString("message", message);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
