using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Api.Endpoints;
using Tern.Core.Functions;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Auth;

/// <summary>POST /v1/api-keys (the only answer that holds the key), GET /v1/api-keys (never the key or its hash),
/// DELETE /v1/api-keys/{id} (revoke; the key stays listed with revokedAt).</summary>
internal static class ApiKeyEndpoints
{
    private const long MaxBodyBytes = 64 * 1024;
    private const int MaxNameLength = 64;

    public static void MapApiKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/api-keys").WithTags("API keys");
        group.MapPost("", CreateAsync).WithName("CreateApiKey")
            .Accepts<ApiKeyCreateRequest>("application/json").Produces<ApiKeyCreated>(201).ProducesProblem(400);
        group.MapGet("", async (ApiKeyService keys, CancellationToken ct) =>
                Results.Json(new ApiKeyList([.. (await keys.ListAsync(ct)).Select(View)]), ApiKeyJsonContext.Default.ApiKeyList))
            .WithName("ListApiKeys").Produces<ApiKeyList>();
        group.MapDelete("/{id}", async (string id, ApiKeyService keys, CancellationToken ct) =>
                await keys.RevokeAsync(id, ct) ? Results.NoContent() : Problems.Problems.NotFound("API key not found", $"no unrevoked API key has id '{id}'"))
            .WithName("RevokeApiKey").Produces(204).ProducesProblem(404);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, ApiKeyService keys, CancellationToken ct)
    {
        var body = await RequestBody.ReadAsync(request, MaxBodyBytes, ct);
        if (body is null) return Problems.Problems.TooLarge($"the request may be at most {MaxBodyBytes} bytes");
        ApiKeyCreateRequest settings;
        try
        {
            settings = RequestBody.ParseJson(body, ApiKeyJsonContext.Default.ApiKeyCreateRequest);
        }
        catch (JsonException e)
        {
            return Problems.Problems.BadRequest("Malformed API key request", $"expected {{\"name\": \"...\", \"rateLimitPerSecond\": N}}: {e.Message}");
        }
        var name = settings.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
            return Problems.Problems.BadRequest("Invalid API key request", $"name is required: 1 to {MaxNameLength} characters, no control characters");
        if (settings.RateLimitPerSecond is < 0 or > FunctionLimits.MaxRateLimitPerSecond)
            return Problems.Problems.BadRequest("Invalid API key request",
                $"rateLimitPerSecond must be a whole number from 0 (unlimited) to {FunctionLimits.MaxRateLimitPerSecond}");

        var (record, key) = await keys.CreateAsync(name, settings.RateLimitPerSecond is > 0 ? settings.RateLimitPerSecond : null, ct);
        return Results.Json(new ApiKeyCreated(record.Id, record.Name, key, record.CreatedAt, record.RateLimitPerSecond),
            ApiKeyJsonContext.Default.ApiKeyCreated, statusCode: StatusCodes.Status201Created);
    }

    private static ApiKeyView View(ApiKey key) => new(key.Id, key.Name, key.CreatedAt, key.RevokedAt, key.RateLimitPerSecond);
}

internal sealed record ApiKeyCreateRequest(string? Name, int? RateLimitPerSecond);

internal sealed record ApiKeyCreated(string Id, string Name, string Key, DateTimeOffset CreatedAt, int? RateLimitPerSecond);

internal sealed record ApiKeyView(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, int? RateLimitPerSecond);

internal sealed record ApiKeyList(IReadOnlyList<ApiKeyView> ApiKeys);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ApiKeyCreateRequest))]
[JsonSerializable(typeof(ApiKeyCreated))]
[JsonSerializable(typeof(ApiKeyList))]
internal sealed partial class ApiKeyJsonContext : JsonSerializerContext;
