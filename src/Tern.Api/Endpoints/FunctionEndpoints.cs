using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Tern.Api.Auth;
using Tern.Api.Problems;
using Tern.Api.Serialization;
using Tern.Core.Functions;
using Tern.Registry;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Endpoints;

/// <summary>/v1/functions: register, list, read, update and delete functions.</summary>
internal static class FunctionEndpoints
{
    /// <summary>Room for a maximal code package as base64 plus its JSON envelope.</summary>
    private const long MaxDefinitionBytes = FunctionLimits.MaxCodeBytes / 3 * 4 + 1024 * 1024;

    /// <summary>A multipart upload: the package plus its form envelope.</summary>
    private const long MaxUploadBytes = FunctionLimits.MaxCodeBytes + 1024 * 1024;

    public static void MapFunctionEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/functions").WithTags("Functions");
        group.MapPost("", CreateAsync).WithName("CreateFunction").RequireRole(ApiKeyRole.Deploy)
            .Accepts<FunctionSettings>("application/json", "multipart/form-data")
            .Produces<FunctionDefinition>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(409);
        group.MapGet("", async (FunctionRegistry registry, CancellationToken ct) =>
                Results.Ok(new FunctionList(await registry.ListAsync(ct))))
            .WithName("ListFunctions").Produces<FunctionList>();
        group.MapGet("/{name}", async (string name, FunctionRegistry registry, CancellationToken ct) =>
                Results.Ok(await registry.GetAsync(name, ct)))
            .WithName("GetFunction").Produces<FunctionDefinition>().ProducesProblem(404);
        group.MapPatch("/{name}", UpdateAsync).WithName("UpdateFunction").RequireRole(ApiKeyRole.Deploy)
            .Accepts<FunctionSettings>("application/json", "multipart/form-data")
            .Produces<FunctionDefinition>().ProducesValidationProblem().ProducesProblem(404);
        group.MapDelete("/{name}", async (string name, FunctionRegistry registry, CancellationToken ct) =>
            {
                await registry.DeleteAsync(name, ct);
                return Results.NoContent();
            })
            .WithName("DeleteFunction").RequireRole(ApiKeyRole.Deploy).Produces(StatusCodes.Status204NoContent).ProducesProblem(404);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, FunctionRegistry registry, CancellationToken ct)
    {
        await using var slot = await UploadSlot.TakeAsync(request, ct);
        if (slot is null) return Busy();
        if (request.HasFormContentType)
        {
            var parsed = await MultipartFunction.ReadAsync(request, MaxUploadBytes, ct);
            if (parsed.Problem is not null) return parsed.Problem;
            await using var code = parsed.Code?.OpenReadStream();
            var created = await registry.CreateAsync(parsed.Settings!, code, ct);
            return Results.Created($"/v1/functions/{created.Name}", created);
        }
        var settings = await ReadSettingsAsync(request, ct);
        var function = await registry.CreateAsync(settings, ct);
        return Results.Created($"/v1/functions/{function.Name}", function);
    }

    private static async Task<IResult> UpdateAsync(string name, HttpRequest request, FunctionRegistry registry, CancellationToken ct)
    {
        await using var slot = await UploadSlot.TakeAsync(request, ct);
        if (slot is null) return Busy();
        if (request.HasFormContentType)
        {
            var parsed = await MultipartFunction.ReadAsync(request, MaxUploadBytes, ct);
            if (parsed.Problem is not null) return parsed.Problem;
            await using var code = parsed.Code?.OpenReadStream();
            return Results.Ok(await registry.UpdateAsync(name, parsed.Settings!, code, ct));
        }
        return Results.Ok(await registry.UpdateAsync(name, await ReadSettingsAsync(request, ct), ct));
    }

    /// <summary>The JSON settings, read as they stream in (an unknown field is a 400 as soon as it is seen, not after
    /// the whole body is buffered), within the definition limit.</summary>
    private static async Task<FunctionSettings> ReadSettingsAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxDefinitionBytes)
            throw new BadHttpRequestException($"a function definition may be at most {MaxDefinitionBytes} bytes; upload large code as multipart/form-data",
                StatusCodes.Status413PayloadTooLarge);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxDefinitionBytes;
        try
        {
            return await System.Text.Json.JsonSerializer.DeserializeAsync(request.Body, ApiJsonContext.Default.FunctionSettings, ct)
                ?? throw new System.Text.Json.JsonException("a JSON object was expected, not null");
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            throw RequestBody.Unreadable(e);
        }
    }

    private static IResult Busy() => Results.Problem(ProblemExceptionHandler.Problem(StatusCodes.Status503ServiceUnavailable, "Busy",
        $"{UploadSlot.Concurrent} large uploads are being stored already; retry in a few seconds"));
}
