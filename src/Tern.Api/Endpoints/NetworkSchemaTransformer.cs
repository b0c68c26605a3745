using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Tern.Core.Functions;

namespace Tern.Api.Endpoints;

/// <summary>FunctionNetwork is read and written by a custom converter, which the OpenAPI generator cannot see into: this
/// describes its two accepted shapes (a mode string, or the object the daemon always writes).</summary>
internal sealed class NetworkSchemaTransformer : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type != typeof(FunctionNetwork)) return Task.CompletedTask;
        JsonNode[] modes = [FunctionNetwork.NoneMode, FunctionNetwork.EgressMode];
        schema.Description = "none (default: no network) or egress (outbound, filtered; allow lists refused addresses it may still reach)";
        schema.OneOf =
        [
            new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. modes.Select(m => m.DeepClone())] },
            new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                AdditionalPropertiesAllowed = false,
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["mode"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. modes.Select(m => m.DeepClone())] },
                    ["allow"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Array,
                        MaxItems = FunctionNetwork.MaxAllowEntries,
                        Items = new OpenApiSchema
                        {
                            Type = JsonSchemaType.String,
                            Description = "CIDR range or address, optionally :port (10.1.0.0/16, 192.168.1.5:8080, [fd00::1]:443)",
                        },
                    },
                },
            },
        ];
        return Task.CompletedTask;
    }
}
