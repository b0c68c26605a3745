using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Tern.Cli.Output;

/// <summary>Writes a JSON tree as YAML with the same data and types: strings that YAML would read as
/// something else ("123", "true", "null", "") are quoted; numbers keep their exact JSON text.</summary>
internal static partial class YamlText
{
    public static string Format(JsonNode? node)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(writer);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        Emit(emitter, node);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return writer.ToString().TrimEnd('\n', '\r');
    }

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case null:
                emitter.Emit(Plain("null"));
                break;
            case JsonObject obj:
                emitter.Emit(new MappingStart());
                foreach (var (key, value) in obj)
                {
                    emitter.Emit(StringScalar(key));
                    Emit(emitter, value);
                }
                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, isImplicit: true, SequenceStyle.Block));
                foreach (var item in array) Emit(emitter, item);
                emitter.Emit(new SequenceEnd());
                break;
            default:
                emitter.Emit(node.GetValueKind() switch
                {
                    JsonValueKind.String => StringScalar(node.GetValue<string>()),
                    JsonValueKind.Null => Plain("null"),
                    // Numbers and booleans: their JSON text is also their YAML text.
                    _ => Plain(node.ToJsonString()),
                });
                break;
        }
    }

    private static Scalar Plain(string text) =>
        new(AnchorName.Empty, TagName.Empty, text, ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false);

    /// <summary>Lets the emitter pick a style, except where a plain scalar would change the value's type.</summary>
    private static Scalar StringScalar(string value) =>
        new(AnchorName.Empty, TagName.Empty, value, LooksLikeNonString(value) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any,
            isPlainImplicit: true, isQuotedImplicit: true);

    private static bool LooksLikeNonString(string value) =>
        value.Length == 0 || value != value.Trim() || NonStringPattern().IsMatch(value);

    /// <summary>YAML 1.1 and 1.2 core-schema nulls, booleans, numbers and timestamps, which a reader would not take as strings.</summary>
    [GeneratedRegex(@"^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N" +
        @"|[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o?[0-7_]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)" +
        @"|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?)$")]
    private static partial Regex NonStringPattern();
}
