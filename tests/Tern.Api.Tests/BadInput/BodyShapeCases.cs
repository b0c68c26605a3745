using System.Text;
using System.Text.Json.Nodes;

namespace Tern.Api.Tests.BadInput;

/// <summary>Cases about the body as a whole: required properties missing, unknown ones added, text that is not
/// JSON, and nesting deep enough to exhaust a recursive parser.</summary>
public static class BodyShapeCases
{
    public static IEnumerable<BadCase> MissingAndExtra(CaseContext context)
    {
        const string family = "missing and extra fields";
        foreach (var operation in context.WithBody)
        {
            var body = operation.Body!;
            yield return context.Json(family, operation, "empty object", "{}");
            var removable = body.Required.Count > 0 ? body.Required : context.ValidBody(operation).Select(p => p.Key).ToHashSet();
            foreach (var property in removable.Order(StringComparer.Ordinal))
                yield return context.Json(family, operation, $"without {property}", context.Without(operation, property));
            foreach (var (name, extra) in Extras(body))
            {
                var text = context.ValidBody(operation).ToJsonString();
                yield return context.Json(family, operation, $"extra: {name}", text.Length > 2 ? text[..^1] + "," + extra + "}" : "{" + extra + "}");
            }
        }
    }

    private static IEnumerable<(string Name, string Json)> Extras(ApiBody body)
    {
        yield return ("unknown field", "\"unknownField\":1");
        yield return ("__proto__", "\"__proto__\":{\"polluted\":true}");
        yield return ("$type", "\"$type\":\"System.IO.FileInfo, System.IO.FileSystem\"");
        yield return ("empty name", "\"\":1");
        yield return ("10000-char name", BadValues.Str(new string('f', 10_000)) + ":1");
        yield return ("NUL in name", "\"a\\u0000b\":1");
        yield return ("1000 unknown fields", string.Join(',', Enumerable.Range(0, 1000).Select(i => $"\"extra{i}\":{i}")));
        if (body.Properties.FirstOrDefault() is { } first)
        {
            yield return ("upper-case duplicate", $"\"{first.Name.ToUpperInvariant()}\":null");
            yield return ("duplicate key of another type", $"\"{first.Name}\":[[]]");
        }
    }

    public static IEnumerable<BadCase> InvalidJson(CaseContext context)
    {
        const string family = "invalid JSON and depth bombs";
        foreach (var operation in context.WithBody)
        {
            foreach (var (name, bytes) in BadValues.InvalidJson)
                yield return context.Bytes(family, operation, name, bytes);
            foreach (var (name, json) in BadValues.DeepBodies)
                yield return context.Json(family, operation, name, json);
            // Deep values inside a property: the one that takes any JSON if there is one, else the first.
            var body = operation.Body!;
            var property = body.IsOpaque ? "n" : (body.Properties.FirstOrDefault(p => p.Kind == PropertyKind.Any) ?? body.Properties[0]).Name;
            foreach (var depth in BadValues.NestedDepths)
            {
                yield return context.Json(family, operation, $"{property}: arrays depth {depth}",
                    context.WithRaw(operation, property, BadValues.Nested("[", "]", depth)));
                yield return context.Json(family, operation, $"{property}: objects depth {depth}",
                    context.WithRaw(operation, property, BadValues.Nested("{\"a\":", "}", depth)));
            }
            yield return context.Json(family, operation, "JSON with unescaped NUL byte", context.ValidBody(operation).ToJsonString() + "\0");
            yield return context.Bytes(family, operation, "truncated valid body", Truncated(context.ValidBody(operation)));
        }
    }

    private static byte[] Truncated(JsonObject body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        return bytes[..Math.Max(1, bytes.Length / 2)];
    }
}
