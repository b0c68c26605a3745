using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Auth;
using Tern.Api.Endpoints;
using Tern.Core.Functions;
using Tern.Registry;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Lambda;

/// <summary>Lambda's function calls (CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions,
/// UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction) over Tern's FunctionRegistry: a Lambda function is a
/// Tern function in persistent mode, and one made with /v1 is visible here too.</summary>
internal static class LambdaFunctionEndpoints
{
    public static void MapLambdaFunctionEndpoints(this RouteGroupBuilder group)
    {
        group.MapPost("/functions", (Func<HttpContext, Task<IResult>>)CreateAsync).WithName("LambdaCreateFunction").RequireRole(ApiKeyRole.Deploy)
            .Accepts<CreateFunctionRequest>("application/json").Produces<FunctionConfiguration>(StatusCodes.Status201Created);
        group.MapGet("/functions", (Func<HttpContext, Task<IResult>>)ListAsync).WithName("LambdaListFunctions").Produces<ListFunctionsResponse>();
        group.MapGet("/functions/{FunctionName}", GetAsync).WithName("LambdaGetFunction").Produces<GetFunctionResponse>();
        group.MapGet("/functions/{FunctionName}/configuration", GetConfigurationAsync).WithName("LambdaGetFunctionConfiguration")
            .Produces<FunctionConfiguration>();
        group.MapPut("/functions/{FunctionName}/code", UpdateCodeAsync).WithName("LambdaUpdateFunctionCode").RequireRole(ApiKeyRole.Deploy)
            .Accepts<UpdateFunctionCodeRequest>("application/json").Produces<FunctionConfiguration>();
        group.MapPut("/functions/{FunctionName}/configuration", UpdateConfigurationAsync).WithName("LambdaUpdateFunctionConfiguration")
            .RequireRole(ApiKeyRole.Deploy).Accepts<UpdateFunctionConfigurationRequest>("application/json").Produces<FunctionConfiguration>();
        group.MapDelete("/functions/{FunctionName}", DeleteAsync).WithName("LambdaDeleteFunction").RequireRole(ApiKeyRole.Deploy)
            .Produces(StatusCodes.Status204NoContent);
    }

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        var (request, ct) = (context.Request, context.RequestAborted);
        await using var slot = await UploadSlot.TakeAsync(request, ct)
            ?? throw new LambdaException(LambdaErrorType.TooManyRequests, $"{UploadSlot.Concurrent} large uploads are being stored already; retry in a few seconds", 5);
        var body = await LambdaBody.ReadAsync(request, LambdaBody.CodeLimit, LambdaJsonContext.Default.CreateFunctionRequest, null, ct);
        if (string.IsNullOrEmpty(body.FunctionName)) throw LambdaRefusals.Refuse("FunctionName is required");
        if (!FunctionNames.IsValid(body.FunctionName))
            throw LambdaRefusals.Refuse($"FunctionName '{body.FunctionName}' is not a Tern function name: ^[a-z0-9][a-z0-9_-]{{0,63}}$ (lowercase)");
        var runtime = LambdaRuntimes.Check(body.Runtime);
        LambdaRefusals.PackageType(body.PackageType);
        LambdaRefusals.Code(body.Code?.S3Bucket, body.Code?.S3Key, body.Code?.ImageUri);
        LambdaRefusals.Layers(body.Layers);
        LambdaRefusals.Architectures(body.Architectures);
        var zip = Zip(body.Code?.ZipFile);
        var settings = new FunctionSettings
        {
            Name = body.FunctionName, Runtime = runtime, Mode = ExecutionModes.Persistent,
            Handler = LambdaRuntimes.Handler(runtime, body.Handler) ?? throw LambdaRefusals.Refuse("Handler is required, e.g. lambda_function.lambda_handler"),
            MemoryMb = body.MemorySize, TimeoutMs = LambdaRefusals.TimeoutMs(body.Timeout), Env = body.Environment?.Variables,
        };
        var services = context.RequestServices;
        var created = await services.GetRequiredService<FunctionRegistry>().CreateAsync(settings, new MemoryStream(zip, writable: false), ct);
        var views = services.GetRequiredService<LambdaConfigurations>();
        var answer = body.Publish == true
            ? await views.ForAsync(request, await services.GetRequiredService<FunctionVersions>().PublishAsync(created.Name, body.Description, ct), ct)
            : await views.ForAsync(request, created, null, body.Description, ct);
        return Results.Json(answer, LambdaJsonContext.Default.FunctionConfiguration, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        var (request, ct) = (context.Request, context.RequestAborted);
        var all = LambdaPage.Query(request, "FunctionVersion") switch
        {
            null => false,
            "ALL" => true,
            var other => throw LambdaRefusals.Refuse($"FunctionVersion '{other}' is not valid; the only value is ALL"),
        };
        var services = context.RequestServices;
        var functions = await services.GetRequiredService<FunctionRegistry>().ListAsync(ct);
        // Keys: the name ($LATEST), name:N for versions (FunctionVersion=ALL).
        var entries = new List<(string Key, FunctionDefinition Function, PublishedVersion? Published)>();
        foreach (var function in functions)
        {
            entries.Add((function.Name, function, null));
            if (!all) continue;
            foreach (var published in await services.GetRequiredService<FunctionVersions>().ListAsync(function.Name, ct))
                entries.Add(($"{function.Name}:{published.Version}", function, published));
        }
        var (page, next) = LambdaPage.Take(request, entries, e => e.Key);
        var views = services.GetRequiredService<LambdaConfigurations>();
        var configurations = new List<FunctionConfiguration>(page.Count);
        foreach (var (_, function, published) in page)
            configurations.Add(published is null ? await views.ForAsync(request, function, null, null, ct) : await views.ForAsync(request, published, ct));
        return Results.Json(new ListFunctionsResponse(configurations, next), LambdaJsonContext.Default.ListFunctionsResponse);
    }

    private static async Task<IResult> GetAsync(HttpContext context, string FunctionName) =>
        Results.Json(new GetFunctionResponse(await ConfigurationAsync(context, FunctionName), new FunctionCodeLocation()),
            LambdaJsonContext.Default.GetFunctionResponse);

    private static async Task<IResult> GetConfigurationAsync(HttpContext context, string FunctionName) =>
        Results.Json(await ConfigurationAsync(context, FunctionName), LambdaJsonContext.Default.FunctionConfiguration);

    /// <summary>$LATEST, a published version, or the version an alias points at (its primary one).</summary>
    private static async Task<FunctionConfiguration> ConfigurationAsync(HttpContext context, string functionName)
    {
        var (request, ct, services) = (context.Request, context.RequestAborted, context.RequestServices);
        var target = LambdaFunctionName.Parse(functionName, LambdaPage.Query(request, "Qualifier"));
        target.ThrowIfUnknownShape();
        var views = services.GetRequiredService<LambdaConfigurations>();
        if (target.Qualifier is null)
            return await views.ForAsync(request, await services.GetRequiredService<FunctionRegistry>().GetAsync(target.Name, ct), null, null, ct);
        var versions = services.GetRequiredService<FunctionVersions>();
        var number = Qualifiers.TryParseVersion(target.Qualifier, out var n) ? n : (await versions.GetAliasAsync(target.Name, target.Qualifier, ct)).Version;
        return await views.ForAsync(request, await versions.GetAsync(target.Name, number, ct), ct);
    }

    private static async Task<IResult> UpdateCodeAsync(HttpContext context, string FunctionName)
    {
        var (request, ct, services) = (context.Request, context.RequestAborted, context.RequestServices);
        await using var slot = await UploadSlot.TakeAsync(request, ct)
            ?? throw new LambdaException(LambdaErrorType.TooManyRequests, $"{UploadSlot.Concurrent} large uploads are being stored already; retry in a few seconds", 5);
        var name = Unqualified(FunctionName);
        var body = await LambdaBody.ReadAsync(request, LambdaBody.CodeLimit, LambdaJsonContext.Default.UpdateFunctionCodeRequest, null, ct);
        LambdaRefusals.Code(body.S3Bucket, body.S3Key, body.ImageUri);
        LambdaRefusals.Architectures(body.Architectures);
        if (body.DryRun == true) throw LambdaRefusals.Refuse("DryRun is not supported by Tern's UpdateFunctionCode");
        var zip = Zip(body.ZipFile);
        var registry = services.GetRequiredService<FunctionRegistry>();
        await CheckRevisionAsync(registry, name, body.RevisionId, ct);
        var updated = await registry.UpdateAsync(name, new FunctionSettings(), new MemoryStream(zip, writable: false), ct);
        return await AnswerUpdateAsync(context, updated, body.Publish == true);
    }

    private static async Task<IResult> UpdateConfigurationAsync(HttpContext context, string FunctionName)
    {
        var (request, ct, services) = (context.Request, context.RequestAborted, context.RequestServices);
        var name = Unqualified(FunctionName);
        var body = await LambdaBody.ReadAsync(request, LambdaBody.SmallLimit, LambdaJsonContext.Default.UpdateFunctionConfigurationRequest,
            static () => new UpdateFunctionConfigurationRequest(), ct);
        LambdaRefusals.Layers(body.Layers);
        var registry = services.GetRequiredService<FunctionRegistry>();
        await CheckRevisionAsync(registry, name, body.RevisionId, ct);
        var runtime = body.Runtime is null ? null : LambdaRuntimes.Check(body.Runtime);
        var current = await registry.GetAsync(name, ct);
        var settings = new FunctionSettings
        {
            Runtime = runtime, Mode = runtime is null ? null : ExecutionModes.Persistent,
            Handler = body.Handler is null ? null : LambdaRuntimes.Handler(runtime ?? current.Runtime, body.Handler),
            MemoryMb = body.MemorySize, TimeoutMs = LambdaRefusals.TimeoutMs(body.Timeout),
            // Lambda: Environment replaces the variables; Environment {} (no Variables) clears them.
            Env = body.Environment is null ? null : body.Environment.Variables ?? [],
        };
        return await AnswerUpdateAsync(context, await registry.UpdateAsync(name, settings, ct), publish: false);
    }

    private static async Task<IResult> DeleteAsync(HttpContext context, string FunctionName)
    {
        var target = LambdaFunctionName.Parse(FunctionName, LambdaPage.Query(context.Request, "Qualifier"));
        if (target.Qualifier is not null)
            throw LambdaRefusals.Refuse("Tern does not delete a single version; delete its aliases, or the whole function (no Qualifier)");
        target.ThrowIfUnknownShape();
        await context.RequestServices.GetRequiredService<FunctionRegistry>().DeleteAsync(target.Name, context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> AnswerUpdateAsync(HttpContext context, FunctionDefinition updated, bool publish)
    {
        var (request, ct, services) = (context.Request, context.RequestAborted, context.RequestServices);
        var views = services.GetRequiredService<LambdaConfigurations>();
        var answer = publish
            ? await views.ForAsync(request, await services.GetRequiredService<FunctionVersions>().PublishAsync(updated.Name, null, ct), ct)
            : await views.ForAsync(request, updated, null, null, ct);
        return Results.Json(answer, LambdaJsonContext.Default.FunctionConfiguration);
    }

    /// <summary>RevisionId, when given, must be the function's current one (else PreconditionFailedException).</summary>
    internal static async Task CheckRevisionAsync(FunctionRegistry registry, string name, string? revisionId, CancellationToken ct)
    {
        if (revisionId is null) return;
        var current = LambdaConfigurations.RevisionId(await registry.GetAsync(name, ct));
        if (revisionId != current)
            throw new LambdaException(LambdaErrorType.PreconditionFailed, $"RevisionId '{revisionId}' is not the function's current one ('{current}')");
    }

    /// <summary>Calls that change a function take it unqualified (a qualifier is refused).</summary>
    internal static string Unqualified(string functionName)
    {
        var target = LambdaFunctionName.Parse(functionName, null);
        if (target.Qualifier is not null) throw LambdaRefusals.Refuse("this call takes the function without a qualifier");
        target.ThrowIfUnknownShape();
        return target.Name;
    }

    private static byte[] Zip(byte[]? zip) =>
        zip is { Length: >= 4 } && zip[0] == 'P' && zip[1] == 'K'
            ? zip
            : throw LambdaRefusals.Refuse(zip is null or { Length: 0 } ? "Code.ZipFile is required (a zip of the function's code)" : "ZipFile must be a zip archive");
}
