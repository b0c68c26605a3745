using Tern.Api.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Tern.Api.Endpoints;

/// <summary>GET /openapi/v1.json: the daemon's one OpenAPI document.</summary>
internal static class OpenApiEndpoint
{
    public const string DocumentName = "v1";

    /// <summary>MapOpenApi answers any other document name (/openapi/v2.json, or ?documentName=v2) with a text/plain 404
    /// of its own; here that is a problem, as every other 404.</summary>
    public static void MapOpenApiDocument(this IEndpointRouteBuilder app) =>
        app.MapOpenApi().AddEndpointFilter((context, next) =>
            context.Arguments.OfType<string>().Any(name => !name.Equals(DocumentName, StringComparison.OrdinalIgnoreCase))
                ? ValueTask.FromResult<object?>(ProblemResults.NotFound("OpenAPI document not found",
                    $"the daemon has one OpenAPI document: /openapi/{DocumentName}.json"))
                : next(context));
}
