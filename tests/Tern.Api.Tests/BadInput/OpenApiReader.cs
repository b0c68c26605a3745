using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tern.Api.Tests.BadInput;

/// <summary>Reads the operations out of the daemon's own OpenAPI document (GET /openapi/v1.json), so a route added
/// to the daemon is fuzzed without anyone touching this suite.</summary>
public static partial class OpenApiReader
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    public static IReadOnlyList<ApiOperation> Read(JsonObject document)
    {
        var schemas = document["components"]?["schemas"]?.AsObject() ?? [];
        var operations = new List<ApiOperation>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var method in Methods)
            {
                if (item?[method] is not JsonObject operation) continue;
                var placeholders = Placeholder().Matches(path).Select(m => m.Groups[1].Value).ToList();
                var query = (operation["parameters"]?.AsArray() ?? [])
                    .Where(p => (string?)p!["in"] == "query")
                    .Select(p => new ApiProperty((string)p!["name"]!, Kind(p["schema"], schemas)))
                    .ToList();
                operations.Add(new ApiOperation(method.ToUpperInvariant(), path, (string?)operation["operationId"], placeholders, query,
                    Body(method, operation["requestBody"], schemas)));
            }
        }
        return operations;
    }

    private static ApiBody? Body(string method, JsonNode? requestBody, JsonObject schemas)
    {
        if (requestBody?["content"] is not JsonObject content)
            return method is "post" or "put" or "patch" ? new ApiBody(["application/json"], [], new HashSet<string>()) : null;
        var contentTypes = content.Select(c => c.Key).ToList();
        var schema = Resolve(content.First().Value?["schema"], schemas);
        var properties = (schema?["properties"]?.AsObject() ?? [])
            .Select(p => new ApiProperty(p.Key, Kind(p.Value, schemas)))
            .ToList();
        var required = (schema?["required"]?.AsArray() ?? []).Select(r => (string)r!).ToHashSet();
        return new ApiBody(contentTypes, properties, required);
    }

    /// <summary>The generator only needs the broad kind. Integers are documented as integer-or-string (the web JSON
    /// defaults read numbers from strings), so integer wins over string.</summary>
    private static PropertyKind Kind(JsonNode? schema, JsonObject schemas)
    {
        schema = Resolve(schema, schemas);
        if (schema?["oneOf"] is JsonArray oneOf)
        {
            var branches = oneOf.Select(s => Resolve(s, schemas)).Where(s => (string?)s?["type"] != "null").ToList();
            return branches.Count == 1 ? Kind(branches[0], schemas) : PropertyKind.Any;
        }
        var types = schema?["type"] switch
        {
            JsonArray many => many.Select(t => (string?)t).ToHashSet(),
            JsonValue one => [(string?)one],
            _ => [],
        };
        if (types.Contains("integer")) return PropertyKind.Integer;
        if (types.Contains("boolean")) return PropertyKind.Boolean;
        // additionalProperties may be a schema (a map) or false (an object refusing unknown fields, e.g. kubernetes).
        if (types.Contains("object") && schema?["additionalProperties"] is JsonObject { } values && values["type"] is not null) return PropertyKind.StringMap;
        if (types.Contains("string")) return PropertyKind.String;
        return PropertyKind.Any;
    }

    private static JsonNode? Resolve(JsonNode? schema, JsonObject schemas) =>
        schema?["$ref"] is JsonValue reference && ((string)reference!).Split('/')[^1] is var name
            ? schemas[name]
            : schema;

    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex Placeholder();
}
