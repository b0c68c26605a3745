using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Api.Problems;
using Tern.Api.Serialization;
using Tern.Core.Functions;
using Tern.Registry;

namespace Tern.Api.Endpoints;

/// <summary>/v1/functions: register, list, read, update and delete functions.</summary>
internal static class FunctionEndpoints
{
    /// <summary>Room for a maximal code package as base64 plus its JSON envelope.</summary>
    private const long MaxDefinitionBytes = FunctionLimits.MaxCodeBytes / 3 * 4 + 1024 * 1024;

    public static void MapFunctionEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/functions").WithTags("Functions");
        group.MapPost("", CreateAsync).WithName("CreateFunction")
            .Accepts<FunctionSettings>("application/json", "multipart/form-data")
            .Produces<FunctionDefinition>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(409);
        group.MapGet("", async (FunctionRegistry registry, CancellationToken ct) =>
                Results.Ok(new FunctionList(await registry.ListAsync(ct))))
            .WithName("ListFunctions").Produces<FunctionList>();
        group.MapGet("/{name}", async (string name, FunctionRegistry registry, CancellationToken ct) =>
                Results.Ok(await registry.GetAsync(name, ct)))
            .WithName("GetFunction").Produces<FunctionDefinition>().ProducesProblem(404);
        group.MapPatch("/{name}", UpdateAsync).WithName("UpdateFunction")
            .Accepts<FunctionSettings>("application/json")
            .Produces<FunctionDefinition>().ProducesValidationProblem().ProducesProblem(404);
        group.MapDelete("/{name}", async (string name, FunctionRegistry registry, CancellationToken ct) =>
            {
                await registry.DeleteAsync(name, ct);
                return Results.NoContent();
            })
            .WithName("DeleteFunction").Produces(StatusCodes.Status204NoContent).ProducesProblem(404);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, FunctionRegistry registry, CancellationToken ct)
    {
        FunctionSettings settings;
        if (request.HasFormContentType)
        {
            var parsed = await MultipartFunction.ReadAsync(request, MaxDefinitionBytes, ct);
            if (parsed.Problem is not null) return parsed.Problem;
            settings = parsed.Settings!;
        }
        else
        {
            var body = await RequestBody.ReadAsync(request, MaxDefinitionBytes, ct);
            if (body is null) return Problems.Problems.TooLarge($"a function definition may be at most {MaxDefinitionBytes} bytes");
            settings = RequestBody.ParseJson(body, ApiJsonContext.Default.FunctionSettings);
        }
        var function = await registry.CreateAsync(settings, ct);
        return Results.Created($"/v1/functions/{function.Name}", function);
    }

    private static async Task<IResult> UpdateAsync(string name, HttpRequest request, FunctionRegistry registry, CancellationToken ct)
    {
        var body = await RequestBody.ReadAsync(request, MaxDefinitionBytes, ct);
        if (body is null) return Problems.Problems.TooLarge($"a function definition may be at most {MaxDefinitionBytes} bytes");
        var settings = RequestBody.ParseJson(body, ApiJsonContext.Default.FunctionSettings);
        return Results.Ok(await registry.UpdateAsync(name, settings, ct));
    }
}
