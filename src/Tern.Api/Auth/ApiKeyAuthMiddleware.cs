using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Tern.Api.Problems;

namespace Tern.Api.Auth;

/// <summary>When auth is on, every request but /healthz/* must carry a valid, unrevoked API key in X-API-Key or
/// Authorization: Bearer. Missing, unknown or revoked: 401 problem with WWW-Authenticate: Bearer. A valid key over its
/// rateLimitPerSecond: 429 problem with Retry-After and X-Tern-Reject-Reason: rate-limit.
/// <para>403 is kept for a role check (a valid key not allowed to do this): keys have no roles yet, so every valid
/// key may call every route and nothing answers 403 today.</para></summary>
internal sealed class ApiKeyAuthMiddleware(RequestDelegate next, ApiKeyService keys, IProblemDetailsService problems)
{
    public const string HeaderName = "X-API-Key";
    /// <summary>HttpContext.Items entry holding the id of the key that authenticated the request.</summary>
    public const string ItemKey = "tern.apiKeyId";

    /// <summary>Passes straight through (no async frame) when auth is off or the route is open.</summary>
    public Task InvokeAsync(HttpContext context) =>
        !keys.AuthEnabled || context.Request.Path.StartsWithSegments("/healthz") ? next(context) : AuthenticateAsync(context);

    private async Task AuthenticateAsync(HttpContext context)
    {

        var presented = ReadKey(context.Request);
        if (presented is null)
        {
            await UnauthorizedAsync(context, "Bearer", "API key required",
                $"send an API key in the {HeaderName} header or as Authorization: Bearer KEY");
            return;
        }
        var key = await keys.AuthenticateAsync(presented, context.RequestAborted);
        if (key is null)
        {
            await UnauthorizedAsync(context, "Bearer error=\"invalid_token\"", "Invalid API key", "the API key is unknown or has been revoked");
            return;
        }
        if (!keys.Limiter.TryAcquire(key, out var retryAfter))
        {
            var problem = ProblemExceptionHandler.TooManyRequests(context, "rate-limit", "Rate limited",
                $"rate limit exceeded: API key '{key.Id}' is limited to {key.RateLimitPerSecond} requests per second; retry later", retryAfter);
            await WriteAsync(context, problem);
            return;
        }
        context.Items[ItemKey] = key.Id;
        await next(context);
    }

    private static string? ReadKey(HttpRequest request)
    {
        if (request.Headers[HeaderName].ToString() is { Length: > 0 } header) return header.Trim();
        var authorization = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        return authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) && authorization.Length > bearer.Length
            ? authorization[bearer.Length..].Trim()
            : null;
    }

    private Task UnauthorizedAsync(HttpContext context, string challenge, string title, string detail)
    {
        context.Response.Headers.WWWAuthenticate = challenge;
        return WriteAsync(context, ProblemExceptionHandler.Problem(StatusCodes.Status401Unauthorized, title, detail));
    }

    private async Task WriteAsync(HttpContext context, ProblemDetails problem)
    {
        context.Response.StatusCode = problem.Status!.Value;
        await problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }
}
