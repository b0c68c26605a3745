using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Tern.Api.Problems;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Auth;

/// <summary>When auth is on, every request but /healthz/* must carry a valid, unrevoked API key in X-API-Key or
/// Authorization: Bearer. In order:
/// <list type="number">
/// <item>a client address that has failed too often lately: 429 (reason auth-failures) before any key is looked at;</item>
/// <item>missing, unknown or revoked key (or one whose creator was revoked): 401 with WWW-Authenticate: Bearer;</item>
/// <item>a key whose role is below the route's (<see cref="RequiresRole"/>): 403;</item>
/// <item>a key over its rateLimitPerSecond, or over that of a key that created it: 429 (reason rate-limit).</item>
/// </list></summary>
internal sealed class ApiKeyAuthMiddleware(RequestDelegate next, ApiKeyService keys)
{
    public const string HeaderName = "X-API-Key";
    /// <summary>HttpContext.Items entry holding the <see cref="AuthenticatedKey"/> of the request.</summary>
    public const string CallerItem = "tern.apiKey";

    /// <summary>Passes straight through (no async frame) when auth is off or the route is open.</summary>
    public Task InvokeAsync(HttpContext context) =>
        !keys.AuthEnabled || context.Request.Path.StartsWithSegments("/healthz") ? next(context) : AuthenticateAsync(context);

    /// <summary>The key that authenticated this request; null when auth is off.</summary>
    public static ApiKey? Caller(HttpContext context) => Authenticated(context)?.Key;

    public static AuthenticatedKey? Authenticated(HttpContext context) =>
        context.Items.TryGetValue(CallerItem, out var key) ? key as AuthenticatedKey : null;

    private async Task AuthenticateAsync(HttpContext context)
    {
        var client = context.Connection.RemoteIpAddress;
        if (!keys.FailureThrottle.IsAllowed(client, out var wait))
        {
            await WriteAsync(context, ProblemExceptionHandler.TooManyRequests(context, "auth-failures", "Too many failed authentications",
                "this client sent too many missing or invalid API keys; retry later", (int)Math.Ceiling(wait.TotalSeconds)));
            return;
        }
        var presented = ReadKey(context.Request);
        if (presented is null)
        {
            keys.FailureThrottle.RecordFailure(client);
            await UnauthorizedAsync(context, "Bearer", "API key required",
                $"send an API key in the {HeaderName} header or as Authorization: Bearer KEY");
            return;
        }
        var authenticated = await keys.AuthenticateAsync(presented, context.RequestAborted);
        if (authenticated is null)
        {
            keys.FailureThrottle.RecordFailure(client);
            await UnauthorizedAsync(context, "Bearer error=\"invalid_token\"", "Invalid API key", "the API key is unknown or has been revoked");
            return;
        }
        var key = authenticated.Key;
        var required = RequiresRole.For(context);
        if (key.Role < required)
        {
            await WriteAsync(context, ProblemExceptionHandler.Problem(StatusCodes.Status403Forbidden, "Forbidden",
                $"API key '{key.Id}' has role {key.Role.Name()}; {context.Request.Method} {context.Request.Path} needs {required.Name()} or above"));
            return;
        }
        if (Limited(authenticated, out var limitedBy, out var retryAfter))
        {
            var detail = limitedBy.Id == key.Id
                ? $"rate limit exceeded: API key '{key.Id}' is limited to {key.RateLimitPerSecond} requests per second; retry later"
                : $"rate limit exceeded: API key '{key.Id}' shares the limit of the key that created it, '{limitedBy.Id}' ({limitedBy.RateLimitPerSecond} requests per second); retry later";
            await WriteAsync(context, ProblemExceptionHandler.TooManyRequests(context, "rate-limit", "Rate limited", detail, retryAfter));
            return;
        }
        context.Items[CallerItem] = authenticated;
        await next(context);
    }

    /// <summary>Takes one request from the key's bucket and from each creator's: a key's calls count against every key
    /// above it, so creating keys cannot multiply a limited key's rate.</summary>
    private bool Limited(AuthenticatedKey authenticated, out ApiKey limitedBy, out int retryAfter)
    {
        limitedBy = authenticated.Key;
        if (!keys.Limiter.TryAcquire(authenticated.Key, out retryAfter)) return true;
        foreach (var creator in authenticated.Creators)
        {
            limitedBy = creator;
            if (!keys.Limiter.TryAcquire(creator, out retryAfter)) return true;
        }
        return false;
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

    private static Task WriteAsync(HttpContext context, ProblemDetails problem) => ProblemResults.WriteAsync(context, problem);
}
