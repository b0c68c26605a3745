using System.Text;
using System.Text.Json.Nodes;

namespace Tern.Api.Tests.BadInput;

/// <summary>What every family of mutations needs: the operations from the document, good path values, a valid body
/// per operation to mutate one thing at a time, and one seeded random source, so every run sends the same cases.</summary>
public sealed class CaseContext(IReadOnlyList<ApiOperation> operations, RouteValues values, IReadOnlyDictionary<string, string> validBodies, int seed)
{
    private const string RawMarker = "\u0001raw\u0001";
    /// <summary>Per seed, so the names are the same on every run whatever order the families run in.</summary>
    private int _unique = seed * 100_000;

    public IReadOnlyList<ApiOperation> Operations => operations;

    public RouteValues Values => values;

    public Random Random { get; } = new(seed);

    /// <summary>The operations that take a body.</summary>
    public IEnumerable<ApiOperation> WithBody => operations.Where(o => o.Body is not null);

    /// <summary>The path with good values in every placeholder, except <paramref name="placeholder"/>, which gets
    /// <paramref name="encoded"/> exactly as given (so a test controls every byte of it).</summary>
    public string Path(ApiOperation operation, string? placeholder = null, string? encoded = null)
    {
        var path = operation.Path;
        foreach (var name in operation.PathParameters)
            path = path.Replace("{" + name + "}", name == placeholder ? encoded! : Uri.EscapeDataString(values.For(operation, name)));
        return path;
    }

    /// <summary>A body the operation accepts (or nearly: the point is to be wrong in one place only). "{n}" in a
    /// template becomes a fresh number, so each create has a new name and is not just a 409.</summary>
    public JsonObject ValidBody(ApiOperation operation)
    {
        if (operation.OperationId is { } id && validBodies.TryGetValue(id, out var template))
            return JsonNode.Parse(template.Replace("{n}", Interlocked.Increment(ref _unique).ToString()))!.AsObject();
        var body = new JsonObject();
        if (operation.Body!.IsOpaque) body["n"] = 1;
        foreach (var property in operation.Body.Properties)
            body[property.Name] = property.Kind switch
            {
                PropertyKind.String => "x",
                PropertyKind.Integer => 1,
                PropertyKind.Boolean => false,
                _ => new JsonObject(),
            };
        return body;
    }

    /// <summary>The valid body with <paramref name="property"/> set to <paramref name="rawJson"/>, written as given:
    /// text a JSON DOM could not hold (1e400, a lone surrogate escape, a duplicate key) survives.</summary>
    public string WithRaw(ApiOperation operation, string property, string rawJson)
    {
        var body = ValidBody(operation);
        body[property] = RawMarker;
        return body.ToJsonString().Replace(System.Text.Json.JsonSerializer.Serialize(RawMarker), rawJson);
    }

    public string Without(ApiOperation operation, string property)
    {
        var body = ValidBody(operation);
        body.Remove(property);
        return body.ToJsonString();
    }

    /// <summary>A request with <paramref name="body"/> as its content; null content type sends none.</summary>
    public BadCase Json(string family, ApiOperation operation, string mutation, string body, string? contentType = "application/json",
        string? target = null, Action<HttpRequestMessage>? headers = null) =>
        Bytes(family, operation, mutation, Encoding.UTF8.GetBytes(body), contentType, target, headers);

    public BadCase Bytes(string family, ApiOperation operation, string mutation, byte[] body, string? contentType = "application/json",
        string? target = null, Action<HttpRequestMessage>? headers = null) =>
        new(family, operation.Route, mutation, new HttpMethod(operation.Method), target ?? Path(operation))
        {
            Content = () =>
            {
                var content = new ByteArrayContent(body);
                if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                return content;
            },
            Headers = headers,
        };

    /// <summary>A request to <paramref name="operation"/> as it would be sent by a valid client, plus <paramref name="headers"/>.</summary>
    public BadCase Valid(string family, ApiOperation operation, string mutation, string? target = null, Action<HttpRequestMessage>? headers = null) =>
        operation.Body is null
            ? new BadCase(family, operation.Route, mutation, new HttpMethod(operation.Method), target ?? Path(operation)) { Headers = headers }
            : Json(family, operation, mutation, ValidBody(operation).ToJsonString(), target: target, headers: headers);

    /// <summary><paramref name="count"/> items of <paramref name="items"/>, chosen by the seeded source.</summary>
    public IReadOnlyList<T> Sample<T>(IReadOnlyList<T> items, int count) =>
        count >= items.Count ? items : items.OrderBy(_ => Random.Next()).Take(count).ToList();
}
