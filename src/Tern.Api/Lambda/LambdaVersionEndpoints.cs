using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Auth;
using Tern.Core.Functions;
using Tern.Registry;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Lambda;

/// <summary>PublishVersion, ListVersionsByFunction and the alias calls over Tern's FunctionVersions. A Lambda routing
/// config ({"AdditionalVersionWeights": {"2": 0.3}}) is Tern's split alias (additionalVersion 2, additionalWeight 30).</summary>
internal static class LambdaVersionEndpoints
{
    public static void MapLambdaVersionEndpoints(this RouteGroupBuilder group)
    {
        group.MapPost("/functions/{FunctionName}/versions", PublishAsync).WithName("LambdaPublishVersion").RequireRole(ApiKeyRole.Deploy)
            .Accepts<PublishVersionRequest>("application/json").Produces<FunctionConfiguration>(StatusCodes.Status201Created);
        group.MapGet("/functions/{FunctionName}/versions", ListVersionsAsync).WithName("LambdaListVersionsByFunction").Produces<ListVersionsResponse>();
        group.MapPost("/functions/{FunctionName}/aliases", CreateAliasAsync).WithName("LambdaCreateAlias").RequireRole(ApiKeyRole.Deploy)
            .Accepts<CreateAliasRequest>("application/json").Produces<AliasConfiguration>(StatusCodes.Status201Created);
        group.MapGet("/functions/{FunctionName}/aliases", ListAliasesAsync).WithName("LambdaListAliases").Produces<ListAliasesResponse>();
        group.MapGet("/functions/{FunctionName}/aliases/{Name}", GetAliasAsync).WithName("LambdaGetAlias").Produces<AliasConfiguration>();
        group.MapPut("/functions/{FunctionName}/aliases/{Name}", UpdateAliasAsync).WithName("LambdaUpdateAlias").RequireRole(ApiKeyRole.Deploy)
            .Accepts<UpdateAliasRequest>("application/json").Produces<AliasConfiguration>();
        group.MapDelete("/functions/{FunctionName}/aliases/{Name}", DeleteAliasAsync).WithName("LambdaDeleteAlias").RequireRole(ApiKeyRole.Deploy)
            .Produces(StatusCodes.Status204NoContent);
    }

    private static async Task<IResult> PublishAsync(HttpContext context, string FunctionName)
    {
        var (request, ct, services) = (context.Request, context.RequestAborted, context.RequestServices);
        var name = LambdaFunctionEndpoints.Unqualified(FunctionName);
        var body = await LambdaBody.ReadAsync(request, LambdaBody.SmallLimit, LambdaJsonContext.Default.PublishVersionRequest,
            static () => new PublishVersionRequest(), ct);
        var registry = services.GetRequiredService<FunctionRegistry>();
        await LambdaFunctionEndpoints.CheckRevisionAsync(registry, name, body.RevisionId, ct);
        if (body.CodeSha256 is not null && body.CodeSha256 != LambdaConfigurations.CodeSha256(await registry.GetAsync(name, ct)))
            throw new LambdaException(LambdaErrorType.InvalidParameterValue, "CodeSha256 does not match the function's current code");
        var published = await services.GetRequiredService<FunctionVersions>().PublishAsync(name, body.Description, ct);
        var answer = await services.GetRequiredService<LambdaConfigurations>().ForAsync(request, published, ct);
        return Results.Json(answer, LambdaJsonContext.Default.FunctionConfiguration, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>$LATEST first, then the published versions, oldest first (as Lambda lists them).</summary>
    private static async Task<IResult> ListVersionsAsync(HttpContext context, string FunctionName)
    {
        var (request, ct, services) = (context.Request, context.RequestAborted, context.RequestServices);
        var name = LambdaFunctionEndpoints.Unqualified(FunctionName);
        var latest = await services.GetRequiredService<FunctionRegistry>().GetAsync(name, ct);
        var published = await services.GetRequiredService<FunctionVersions>().ListAsync(name, ct);
        var entries = new List<(string Key, PublishedVersion? Version)> { (Qualifiers.Latest, null) };
        entries.AddRange(published.OrderBy(v => v.Version).Select(v => (v.Version.ToString(CultureInfo.InvariantCulture), (PublishedVersion?)v)));
        var (page, next) = LambdaPage.Take(request, entries, e => e.Key);
        var views = services.GetRequiredService<LambdaConfigurations>();
        var configurations = new List<FunctionConfiguration>(page.Count);
        foreach (var (_, version) in page)
            configurations.Add(version is null ? await views.ForAsync(request, latest, null, null, ct) : await views.ForAsync(request, version, ct));
        return Results.Json(new ListVersionsResponse(configurations, next), LambdaJsonContext.Default.ListVersionsResponse);
    }

    private static async Task<IResult> CreateAliasAsync(HttpContext context, string FunctionName)
    {
        var (request, ct, services) = (context.Request, context.RequestAborted, context.RequestServices);
        var name = LambdaFunctionEndpoints.Unqualified(FunctionName);
        var body = await LambdaBody.ReadAsync(request, LambdaBody.SmallLimit, LambdaJsonContext.Default.CreateAliasRequest, null, ct);
        if (string.IsNullOrEmpty(body.Name)) throw LambdaRefusals.Refuse("Name is required");
        var versions = services.GetRequiredService<FunctionVersions>();
        if ((await versions.ListAliasesAsync(name, ct)).Any(a => a.Name == body.Name))
            throw new LambdaException(LambdaErrorType.ResourceConflict, $"Alias already exists: {body.Name}");
        var settings = Settings(Version(body.FunctionVersion) ?? throw LambdaRefusals.Refuse("FunctionVersion is required"),
            body.RoutingConfig, body.Description);
        var (alias, _) = await versions.SetAliasAsync(name, body.Name, settings, ct);
        return Results.Json(LambdaConfigurations.ForAlias(request, alias), LambdaJsonContext.Default.AliasConfiguration, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAliasesAsync(HttpContext context, string FunctionName)
    {
        var (request, ct, services) = (context.Request, context.RequestAborted, context.RequestServices);
        var name = LambdaFunctionEndpoints.Unqualified(FunctionName);
        var only = LambdaPage.Query(request, "FunctionVersion") is { } text ? Version(text) : null;
        var aliases = (await services.GetRequiredService<FunctionVersions>().ListAliasesAsync(name, ct))
            .Where(a => only is null || a.Version == only || a.AdditionalVersion == only).OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
        var (page, next) = LambdaPage.Take(request, aliases, a => a.Name);
        return Results.Json(new ListAliasesResponse([.. page.Select(a => LambdaConfigurations.ForAlias(request, a))], next),
            LambdaJsonContext.Default.ListAliasesResponse);
    }

    private static async Task<IResult> GetAliasAsync(HttpContext context, string FunctionName, string Name)
    {
        var name = LambdaFunctionEndpoints.Unqualified(FunctionName);
        var alias = await context.RequestServices.GetRequiredService<FunctionVersions>().GetAliasAsync(name, Name, context.RequestAborted);
        return Results.Json(LambdaConfigurations.ForAlias(context.Request, alias), LambdaJsonContext.Default.AliasConfiguration);
    }

    /// <summary>Fields left out keep their values; a RoutingConfig replaces the split (empty weights remove it).</summary>
    private static async Task<IResult> UpdateAliasAsync(HttpContext context, string FunctionName, string Name)
    {
        var (request, ct, services) = (context.Request, context.RequestAborted, context.RequestServices);
        var name = LambdaFunctionEndpoints.Unqualified(FunctionName);
        var body = await LambdaBody.ReadAsync(request, LambdaBody.SmallLimit, LambdaJsonContext.Default.UpdateAliasRequest,
            static () => new UpdateAliasRequest(), ct);
        var versions = services.GetRequiredService<FunctionVersions>();
        var existing = await versions.GetAliasAsync(name, Name, ct);
        if (body.RevisionId is not null && body.RevisionId != LambdaConfigurations.ForAlias(request, existing).RevisionId)
            throw new LambdaException(LambdaErrorType.PreconditionFailed, $"RevisionId '{body.RevisionId}' is not the alias's current one");
        var settings = body.RoutingConfig is null
            ? new AliasSettings
            {
                Version = Version(body.FunctionVersion) ?? existing.Version, AdditionalVersion = existing.AdditionalVersion,
                AdditionalWeight = existing.AdditionalWeight, Description = body.Description,
            }
            : Settings(Version(body.FunctionVersion) ?? existing.Version, body.RoutingConfig, body.Description);
        var (alias, _) = await versions.SetAliasAsync(name, Name, settings, ct);
        return Results.Json(LambdaConfigurations.ForAlias(request, alias), LambdaJsonContext.Default.AliasConfiguration);
    }

    private static async Task<IResult> DeleteAliasAsync(HttpContext context, string FunctionName, string Name)
    {
        var name = LambdaFunctionEndpoints.Unqualified(FunctionName);
        await context.RequestServices.GetRequiredService<FunctionVersions>().DeleteAliasAsync(name, Name, context.RequestAborted);
        return Results.NoContent();
    }

    /// <summary>A published version number; $LATEST cannot be aliased in Tern (aliases name immutable versions).</summary>
    private static int? Version(string? text) => text switch
    {
        null => null,
        Qualifiers.Latest => throw LambdaRefusals.Refuse("Tern aliases point at published versions, not $LATEST; publish a version first (PublishVersion)"),
        _ when Qualifiers.TryParseVersion(text, out var n) => n,
        _ => throw LambdaRefusals.Refuse($"FunctionVersion '{text}' is not a version number"),
    };

    /// <summary>Lambda weights (0.0..1.0, one additional version) as Tern's whole percent.</summary>
    private static AliasSettings Settings(int version, AliasRoutingConfiguration? routing, string? description)
    {
        var weights = routing?.AdditionalVersionWeights;
        if (weights is null or { Count: 0 }) return new AliasSettings { Version = version, Description = description };
        if (weights.Count > 1) throw LambdaRefusals.Refuse("RoutingConfig may name one additional version");
        var (extraText, share) = weights.First();
        var extra = Version(extraText)!.Value;
        var percent = share * 100;
        if (share is < 0 or > 1 || double.IsNaN(share) || Math.Abs(percent - Math.Round(percent)) > 1e-6)
            throw LambdaRefusals.Refuse($"the weight of version {extra} must be 0.0 to 1.0 in whole percent (0.05, 0.3, ...); Tern splits by whole percent");
        return new AliasSettings { Version = version, AdditionalVersion = extra, AdditionalWeight = (int)Math.Round(percent), Description = description };
    }
}
