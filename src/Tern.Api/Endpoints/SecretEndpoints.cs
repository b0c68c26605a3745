using Tern.Api.Problems;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Api.Auth;
using Tern.Storage.ApiKeys;
using Tern.Storage.Secrets;

namespace Tern.Api.Endpoints;

/// <summary>/v1/secrets: set, scope, list and delete named secrets. A value goes in and never comes back out:
/// responses, problem details and logs carry only names, scopes and times. Functions use one as an env value
/// <c>$SECRET:name</c>, if the secret's scope grants it to them (<see cref="SecretScope"/>).</summary>
internal static class SecretEndpoints
{
    /// <summary>A maximal value with every character JSON-escaped (\uXXXX is 6 bytes per byte), plus the envelope.</summary>
    private const long MaxBodyBytes = SecretRules.MaxValueBytes * 6L + 16 * 1024;
    private const long ScopeBodyBytes = 16 * 1024;

    public static void MapSecretEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/secrets").WithTags("Secrets");
        group.MapGet("", async (ISecretStore store, CancellationToken ct) =>
                Results.Json(new SecretList([.. (await store.ListAsync(ct)).Select(SecretView.From)]), SecretJsonContext.Default.SecretList))
            .WithName("ListSecrets").RequireRole(ApiKeyRole.Deploy).Produces<SecretList>();
        group.MapPut("/{name}", PutAsync).WithName("SetSecret").RequireRole(ApiKeyRole.Deploy)
            .Accepts<SecretValue>("application/json")
            .Produces<SecretView>(StatusCodes.Status201Created).Produces<SecretView>().ProducesProblem(400);
        group.MapPatch("/{name}", PatchAsync).WithName("SetSecretScope").RequireRole(ApiKeyRole.Deploy)
            .Accepts<SecretScopeBody>("application/json").Produces<SecretView>().ProducesProblem(400).ProducesProblem(404);
        group.MapDelete("/{name}", async (string name, ISecretStore store, CancellationToken ct) =>
                await store.DeleteAsync(name, ct)
                    ? Results.NoContent()
                    : ProblemResults.NotFound("Secret not found", $"secret '{name}' does not exist"))
            .WithName("DeleteSecret").RequireRole(ApiKeyRole.Deploy).Produces(StatusCodes.Status204NoContent).ProducesProblem(404);
    }

    private static async Task<IResult> PutAsync(string name, HttpRequest request, ISecretStore store, CancellationToken ct)
    {
        if (!SecretRules.IsValidName(name))
            return ProblemResults.BadRequest("Invalid secret", $"a secret name must match {SecretRules.NamePattern}");
        var body = await RequestBody.ReadAsync(request, MaxBodyBytes, ct);
        if (body is null) return ProblemResults.TooLarge($"a secret value may be at most {SecretRules.MaxValueBytes} bytes");
        SecretValue? input;
        try
        {
            input = body.Length == 0 ? null : JsonSerializer.Deserialize(body, SecretJsonContext.Default.SecretValue);
        }
        catch (JsonException)
        {
            // Not e.Message: the parser's message may quote part of the body, and the body is the secret.
            return ProblemResults.BadRequest("Malformed secret", "expected a JSON object {\"value\": \"...\"}");
        }
        if (input?.Value is not { } value)
            return ProblemResults.BadRequest("Invalid secret", "expected a JSON object {\"value\": \"...\"} with a string value");
        try
        {
            var (info, created) = await store.SetAsync(name, value, input.Functions, ct);
            var view = SecretView.From(info);
            return created
                ? Results.Json(view, SecretJsonContext.Default.SecretView, statusCode: StatusCodes.Status201Created)
                : Results.Json(view, SecretJsonContext.Default.SecretView);
        }
        catch (SecretValidationException e)
        {
            return ProblemResults.BadRequest("Invalid secret", e.Message);
        }
    }

    private static async Task<IResult> PatchAsync(string name, HttpRequest request, ISecretStore store, CancellationToken ct)
    {
        var body = await RequestBody.ReadAsync(request, ScopeBodyBytes, ct);
        if (body is null) return ProblemResults.TooLarge($"a scope may be at most {ScopeBodyBytes} bytes");
        SecretScopeBody? input;
        try
        {
            input = body.Length == 0 ? null : JsonSerializer.Deserialize(body, SecretJsonContext.Default.SecretScopeBody);
        }
        catch (JsonException e)
        {
            return ProblemResults.BadRequest("Malformed secret scope", $"expected {{\"functions\": [\"name\", \"prefix-*\" or \"*\"]}}: {e.Message}");
        }
        if (input?.Functions is not { } functions)
            return ProblemResults.BadRequest("Invalid secret scope", "expected {\"functions\": [...]}; [] grants the secret to no function");
        try
        {
            return await store.SetScopeAsync(name, functions, ct) is { } info
                ? Results.Json(SecretView.From(info), SecretJsonContext.Default.SecretView)
                : ProblemResults.NotFound("Secret not found", $"secret '{name}' does not exist");
        }
        catch (SecretValidationException e)
        {
            return ProblemResults.BadRequest("Invalid secret scope", e.Message);
        }
    }
}

/// <summary>PUT body. Its value is never serialized back. Functions: the scope (null keeps the current one; a new
/// secret without one is granted to no function).</summary>
internal sealed record SecretValue(string? Value, string[]? Functions = null);

/// <summary>PATCH body: the new scope.</summary>
internal sealed record SecretScopeBody(string[]? Functions);

/// <summary>What the API shows of a secret: no value.</summary>
internal sealed record SecretView(string Name, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<string> Functions)
{
    public static SecretView From(SecretInfo info) => new(info.Name, info.CreatedAt, info.UpdatedAt, info.Functions);
}

internal sealed record SecretList(IReadOnlyList<SecretView> Secrets);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SecretValue))]
[JsonSerializable(typeof(SecretView))]
[JsonSerializable(typeof(SecretScopeBody))]
[JsonSerializable(typeof(SecretList))]
internal sealed partial class SecretJsonContext : JsonSerializerContext;
