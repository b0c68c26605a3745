using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tern.Api.Configuration;

/// <summary>Reads `--config FILE` (YAML, or JSON when the name ends in .json) into a layer: nested maps become
/// "section:property" keys, sequences "section:property:0", ":1"... A file that is missing or malformed stops the daemon
/// with one line naming the file and, where the parser knows it, the line.</summary>
public static class ConfigFile
{
    public static ConfigLayer Read(string path)
    {
        var full = Path.GetFullPath(path);
        var layer = new ConfigLayer("file");
        var origin = "file " + full;
        string text;
        try { text = File.ReadAllText(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DaemonConfigurationException($"config file {full}: {e.Message}");
        }
        try
        {
            if (full.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                using var json = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
                Flatten(json.RootElement, "", layer, origin);
            }
            else
            {
                var yaml = new YamlStream();
                yaml.Load(new StringReader(text));
                if (yaml.Documents.Count > 0) Flatten(yaml.Documents[0].RootNode, "", layer, origin);
            }
        }
        catch (JsonException e)
        {
            throw new DaemonConfigurationException($"config file {full}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
        catch (YamlException e)
        {
            throw new DaemonConfigurationException($"config file {full}: not valid YAML (line {e.Start.Line}): {e.Message}");
        }
        return layer;
    }

    private static void Flatten(JsonElement element, string prefix, ConfigLayer layer, string origin)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject()) Flatten(property.Value, Join(prefix, property.Name), layer, origin);
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray()) Flatten(item, Join(prefix, (i++).ToString()), layer, origin);
                break;
            case JsonValueKind.Null:
                layer.Set(prefix, null, origin);
                break;
            default:
                layer.Set(prefix, element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText(), origin);
                break;
        }
    }

    private static void Flatten(YamlNode node, string prefix, ConfigLayer layer, string origin)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children) Flatten(value, Join(prefix, ((YamlScalarNode)key).Value ?? ""), layer, origin);
                break;
            case YamlSequenceNode list:
                for (var i = 0; i < list.Children.Count; i++) Flatten(list.Children[i], Join(prefix, i.ToString()), layer, origin);
                break;
            case YamlScalarNode scalar:
                layer.Set(prefix, scalar.Value, origin);
                break;
        }
    }

    private static string Join(string prefix, string key) => prefix.Length == 0 ? key : prefix + ":" + key;
}
