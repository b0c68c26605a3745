using Tern.Storage.ApiKeys;
using Tern.Api.Auth;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Storage.Secrets;

namespace Tern.Api.Endpoints;

/// <summary>/v1/secrets: set, list and delete named secrets. A value goes in and never comes back out: responses,
/// problem details and logs carry only names and times. Functions use one as an env value <c>$SECRET:name</c>.</summary>
internal static class SecretEndpoints
{
    /// <summary>A maximal value with every character JSON-escaped (\uXXXX is 6 bytes per byte), plus the envelope.</summary>
    private const long MaxBodyBytes = SecretRules.MaxValueBytes * 6L + 1024;

    public static void MapSecretEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/secrets").WithTags("Secrets");
        group.MapGet("", async (ISecretStore store, CancellationToken ct) =>
                Results.Json(new SecretList([.. (await store.ListAsync(ct)).Select(SecretView.From)]), SecretJsonContext.Default.SecretList))
            .WithName("ListSecrets").RequireRole(ApiKeyRole.Deploy).Produces<SecretList>();
        group.MapPut("/{name}", PutAsync).WithName("SetSecret").RequireRole(ApiKeyRole.Deploy)
            .Accepts<SecretValue>("application/json")
            .Produces<SecretView>(StatusCodes.Status201Created).Produces<SecretView>().ProducesProblem(400);
        group.MapDelete("/{name}", async (string name, ISecretStore store, CancellationToken ct) =>
                await store.DeleteAsync(name, ct)
                    ? Results.NoContent()
                    : Problems.Problems.NotFound("Secret not found", $"secret '{name}' does not exist"))
            .WithName("DeleteSecret").RequireRole(ApiKeyRole.Deploy).Produces(StatusCodes.Status204NoContent).ProducesProblem(404);
    }

    private static async Task<IResult> PutAsync(string name, HttpRequest request, ISecretStore store, CancellationToken ct)
    {
        if (!SecretRules.IsValidName(name))
            return Problems.Problems.BadRequest("Invalid secret", $"a secret name must match {SecretRules.NamePattern}");
        var body = await RequestBody.ReadAsync(request, MaxBodyBytes, ct);
        if (body is null) return Problems.Problems.TooLarge($"a secret value may be at most {SecretRules.MaxValueBytes} bytes");
        SecretValue? input;
        try
        {
            input = body.Length == 0 ? null : JsonSerializer.Deserialize(body, SecretJsonContext.Default.SecretValue);
        }
        catch (JsonException)
        {
            // Not e.Message: the parser's message may quote part of the body, and the body is the secret.
            return Problems.Problems.BadRequest("Malformed secret", "expected a JSON object {\"value\": \"...\"}");
        }
        if (input?.Value is not { } value)
            return Problems.Problems.BadRequest("Invalid secret", "expected a JSON object {\"value\": \"...\"} with a string value");
        try
        {
            var (info, created) = await store.SetAsync(name, value, ct);
            var view = SecretView.From(info);
            return created
                ? Results.Json(view, SecretJsonContext.Default.SecretView, statusCode: StatusCodes.Status201Created)
                : Results.Json(view, SecretJsonContext.Default.SecretView);
        }
        catch (SecretValidationException e)
        {
            return Problems.Problems.BadRequest("Invalid secret", e.Message);
        }
    }
}

/// <summary>PUT body. Its value is never serialized back.</summary>
internal sealed record SecretValue(string? Value);

/// <summary>What the API shows of a secret: no value.</summary>
internal sealed record SecretView(string Name, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static SecretView From(SecretInfo info) => new(info.Name, info.CreatedAt, info.UpdatedAt);
}

internal sealed record SecretList(IReadOnlyList<SecretView> Secrets);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SecretValue))]
[JsonSerializable(typeof(SecretView))]
[JsonSerializable(typeof(SecretList))]
internal sealed partial class SecretJsonContext : JsonSerializerContext;
