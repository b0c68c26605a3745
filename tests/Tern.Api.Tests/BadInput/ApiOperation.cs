namespace Tern.Api.Tests.BadInput;

/// <summary>One operation of the daemon's OpenAPI document, reduced to what the bad-input generator needs.</summary>
/// <param name="PathParameters">Every {placeholder} of the template, documented or not (the call routes are plain
/// request delegates, so the document lists no parameters for them).</param>
/// <param name="Body">The request body: the documented schema, or for a POST/PUT/PATCH without one, any JSON.</param>
public sealed record ApiOperation(
    string Method, string Path, string? OperationId, IReadOnlyList<string> PathParameters, IReadOnlyList<ApiProperty> Query, ApiBody? Body)
{
    public string Route => $"{Method} {Path}";
}

/// <summary>A query parameter or a body property, with its JSON kind.</summary>
public sealed record ApiProperty(string Name, PropertyKind Kind);

/// <summary>What the JSON value of a property is, from its schema.</summary>
public enum PropertyKind { String, Integer, Boolean, StringMap, Any }

/// <param name="ContentTypes">The media types the document says the body may have.</param>
/// <param name="Required">Properties the schema lists as required.</param>
public sealed record ApiBody(IReadOnlyList<string> ContentTypes, IReadOnlyList<ApiProperty> Properties, IReadOnlySet<string> Required)
{
    public bool AcceptsMultipart => ContentTypes.Contains("multipart/form-data");

    /// <summary>Any JSON value (no schema): the event of :invoke and :enqueue.</summary>
    public bool IsOpaque => Properties.Count == 0;
}
