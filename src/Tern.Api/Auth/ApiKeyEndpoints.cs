using Tern.Api.Problems;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Api.Endpoints;
using Tern.Core.Functions;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Auth;

/// <summary>POST /v1/api-keys (the only answer that holds the key; deploy or admin, and never a key stronger or faster
/// than the caller), GET /v1/api-keys (never the key or its hash; an admin sees all, other keys themselves and what
/// they created), DELETE /v1/api-keys/{id} (revoke; the key stays listed with revokedAt). See <see cref="ApiKeyService"/>.</summary>
internal static class ApiKeyEndpoints
{
    private const long MaxBodyBytes = 64 * 1024;
    private const int MaxNameLength = 64;

    public static void MapApiKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/api-keys").WithTags("API keys");
        group.MapPost("", CreateAsync).WithName("CreateApiKey").RequireRole(ApiKeyRole.Deploy)
            .Accepts<ApiKeyCreateRequest>("application/json").Produces<ApiKeyCreated>(201).ProducesProblem(400).ProducesProblem(403);
        group.MapGet("", async (HttpContext context, ApiKeyService keys, CancellationToken ct) =>
                Results.Json(new ApiKeyList([.. (await keys.ListAsync(ApiKeyAuthMiddleware.Caller(context), ct)).Select(View)]),
                    ApiKeyJsonContext.Default.ApiKeyList))
            .WithName("ListApiKeys").Produces<ApiKeyList>();
        group.MapDelete("/{id}", RevokeAsync).WithName("RevokeApiKey").RequireRole(ApiKeyRole.Read)
            .Produces(204).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);
    }

    private static async Task<IResult> RevokeAsync(string id, HttpContext context, ApiKeyService keys, CancellationToken ct) =>
        await keys.RevokeAsync(id, ApiKeyAuthMiddleware.Caller(context), ct) switch
        {
            RevokeOutcome.Revoked => Results.NoContent(),
            RevokeOutcome.Forbidden => ProblemResults.Forbidden("only an admin key can revoke an admin key"),
            RevokeOutcome.LastAdmin => ProblemResults.Conflict("Last admin key",
                $"'{id}' is the last working admin key; create another admin key first, or nobody could manage keys and limits"),
            _ => ProblemResults.NotFound("API key not found", $"no unrevoked API key you can see has id '{id}'"),
        };

    private static async Task<IResult> CreateAsync(HttpContext context, HttpRequest request, ApiKeyService keys, CancellationToken ct)
    {
        var body = await RequestBody.ReadAsync(request, MaxBodyBytes, ct);
        if (body is null) return ProblemResults.TooLarge($"the request may be at most {MaxBodyBytes} bytes");
        ApiKeyCreateRequest settings;
        try
        {
            settings = RequestBody.ParseJson(body, ApiKeyJsonContext.Default.ApiKeyCreateRequest);
        }
        catch (JsonException e)
        {
            return ProblemResults.BadRequest("Malformed API key request",
                $"expected {{\"name\": \"...\", \"role\": \"invoke\", \"rateLimitPerSecond\": N}}: {e.Message}");
        }
        var name = settings.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
            return ProblemResults.BadRequest("Invalid API key request", $"name is required: 1 to {MaxNameLength} characters, no control characters");
        if (settings.RateLimitPerSecond is < 0 or > FunctionLimits.MaxRateLimitPerSecond)
            return ProblemResults.BadRequest("Invalid API key request",
                $"rateLimitPerSecond must be a whole number from 0 (unlimited) to {FunctionLimits.MaxRateLimitPerSecond}");

        var authenticated = ApiKeyAuthMiddleware.Authenticated(context);
        var caller = authenticated?.Key;
        ApiKeyRole role;
        if (settings.Role is null) role = caller?.Role ?? ApiKeyRole.Admin; // the caller's own role unless asked for less
        else if (!ApiKeyRoles.TryParse(settings.Role, out role))
            return ProblemResults.BadRequest("Invalid API key request", $"role must be {ApiKeyRoles.All}, not '{settings.Role}'");
        var rate = settings.RateLimitPerSecond is > 0 ? settings.RateLimitPerSecond : null;
        if (authenticated is not null && ApiKeyService.RefuseCreate(authenticated, role, rate) is { } refusal)
            return ProblemResults.Forbidden(refusal);

        var (record, key) = await keys.CreateAsync(name, rate, role, caller?.Id, ct);
        return Results.Json(new ApiKeyCreated(record.Id, record.Name, key, record.CreatedAt, record.RateLimitPerSecond, record.Role.Name(), record.CreatedBy),
            ApiKeyJsonContext.Default.ApiKeyCreated, statusCode: StatusCodes.Status201Created);
    }

    private static ApiKeyView View(ApiKey key) =>
        new(key.Id, key.Name, key.CreatedAt, key.RevokedAt, key.RateLimitPerSecond, key.Role.Name(), key.CreatedBy);
}

internal sealed record ApiKeyCreateRequest(string? Name, int? RateLimitPerSecond, string? Role);

internal sealed record ApiKeyCreated(string Id, string Name, string Key, DateTimeOffset CreatedAt, int? RateLimitPerSecond, string Role,
    string? CreatedBy);

internal sealed record ApiKeyView(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, int? RateLimitPerSecond,
    string Role, string? CreatedBy);

internal sealed record ApiKeyList(IReadOnlyList<ApiKeyView> ApiKeys);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ApiKeyCreateRequest))]
[JsonSerializable(typeof(ApiKeyCreated))]
[JsonSerializable(typeof(ApiKeyList))]
internal sealed partial class ApiKeyJsonContext : JsonSerializerContext;
