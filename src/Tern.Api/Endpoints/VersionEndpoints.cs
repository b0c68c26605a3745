using Tern.Api.Problems;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Auth;
using Tern.Core.Functions;
using Tern.Invocation;
using Tern.Registry;
using Tern.Storage;
using Tern.Storage.ApiKeys;
using Tern.Storage.Sqlite;

namespace Tern.Api.Endpoints;

/// <summary>/v1/functions/{name}/versions (publish, list, read immutable snapshots) and /aliases (a name for one
/// version or a weighted split between two; :rollback). Calls pick one with name:3 / name:prod or ?qualifier=.</summary>
internal static class VersionEndpoints
{
    private const long MaxBodyBytes = 64 * 1024;

    public static IServiceCollection AddVersionJson(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(VersionJsonContext.Default));
        return services;
    }

    public static void MapVersionEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/functions/{name}").WithTags("Versions");
        group.MapPost("/versions", async (string name, HttpRequest request, FunctionVersions versions, CancellationToken ct) =>
            {
                var body = await ReadAsync(request, VersionJsonContext.Default.PublishSettings, ct);
                var published = await versions.PublishAsync(name, body?.Description, ct);
                return Results.Json(published, VersionJsonContext.Default.PublishedVersion, statusCode: StatusCodes.Status201Created);
            })
            .WithName("PublishVersion").RequireRole(ApiKeyRole.Deploy).Accepts<PublishSettings>("application/json")
            .Produces<PublishedVersion>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(404);
        group.MapGet("/versions", async (string name, FunctionVersions versions, CancellationToken ct) =>
                Results.Json(new VersionList(await versions.ListAsync(name, ct)), VersionJsonContext.Default.VersionList))
            .WithName("ListVersions").Produces<VersionList>().ProducesProblem(404);
        group.MapGet("/versions/{version}", async (string name, string version, FunctionVersions versions, CancellationToken ct) =>
                Qualifiers.TryParseVersion(version, out var n)
                    ? Results.Json(await versions.GetAsync(name, n, ct), VersionJsonContext.Default.PublishedVersion)
                    : ProblemResults.BadRequest("Invalid version", "a version is a number 1, 2, ..."))
            .WithName("GetVersion").Produces<PublishedVersion>().ProducesProblem(400).ProducesProblem(404);

        group.MapGet("/aliases", async (string name, FunctionVersions versions, CancellationToken ct) =>
                Results.Json(new AliasList(await versions.ListAliasesAsync(name, ct)), VersionJsonContext.Default.AliasList))
            .WithName("ListAliases").Produces<AliasList>().ProducesProblem(404);
        group.MapGet("/aliases/{alias}", async (string name, string alias, FunctionVersions versions, CancellationToken ct) =>
                Results.Json(await versions.GetAliasAsync(name, alias, ct), VersionJsonContext.Default.FunctionAlias))
            .WithName("GetAlias").Produces<FunctionAlias>().ProducesProblem(404);
        group.MapPut("/aliases/{alias}", async (string name, string alias, HttpRequest request, FunctionVersions versions, CancellationToken ct) =>
            {
                var body = await ReadAsync(request, VersionJsonContext.Default.AliasSettings, ct) ?? new AliasSettings();
                var (updated, created) = await versions.SetAliasAsync(name, alias, body, ct);
                return Results.Json(updated, VersionJsonContext.Default.FunctionAlias,
                    statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
            })
            .WithName("SetAlias").RequireRole(ApiKeyRole.Deploy).Accepts<AliasSettings>("application/json")
            .Produces<FunctionAlias>(StatusCodes.Status201Created).Produces<FunctionAlias>().ProducesProblem(400).ProducesProblem(404);
        group.MapDelete("/aliases/{alias}", async (string name, string alias, FunctionVersions versions, CancellationToken ct) =>
            {
                await versions.DeleteAliasAsync(name, alias, ct);
                return Results.NoContent();
            })
            .WithName("DeleteAlias").RequireRole(ApiKeyRole.Deploy).Produces(StatusCodes.Status204NoContent).ProducesProblem(404);
        group.MapPost("/aliases/{alias}:rollback", async (string name, string alias, HttpRequest request, FunctionVersions versions, CancellationToken ct) =>
            {
                var body = await ReadAsync(request, VersionJsonContext.Default.PublishSettings, ct);
                return Results.Json(await versions.RollbackAsync(name, alias, body?.Version, ct), VersionJsonContext.Default.FunctionAlias);
            })
            .WithName("RollbackAlias").RequireRole(ApiKeyRole.Deploy).Produces<FunctionAlias>().ProducesProblem(400).ProducesProblem(404);
    }

    /// <summary>An optional JSON body (empty is null); malformed JSON is a 400 (JsonException).</summary>
    private static async Task<T?> ReadAsync<T>(HttpRequest request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
    {
        var body = await RequestBody.ReadAsync(request, MaxBodyBytes, ct)
            ?? throw new BadHttpRequestException($"the body may be at most {MaxBodyBytes} bytes", StatusCodes.Status413PayloadTooLarge);
        return body.Length == 0 ? default : JsonSerializer.Deserialize(body, type);
    }
}

public sealed record VersionList(IReadOnlyList<PublishedVersion> Versions);
public sealed record AliasList(IReadOnlyList<FunctionAlias> Aliases);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PublishedVersion))]
[JsonSerializable(typeof(FunctionAlias))]
[JsonSerializable(typeof(AliasSettings))]
[JsonSerializable(typeof(PublishSettings))]
[JsonSerializable(typeof(VersionList))]
[JsonSerializable(typeof(AliasList))]
internal sealed partial class VersionJsonContext : JsonSerializerContext;
