using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Tern.Api.Auth.SigV4;
using Tern.Api.Lambda;
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
/// </list>
/// A request signed with AWS SigV4 (the AWS CLI and SDKs, docs/lambda.md) authenticates the same key: the access key id
/// is the key's id, and the signature is checked with the key's SigV4 secret (<see cref="SigV4Verifier"/>). Under
/// /2015-03-31 the failures are Lambda-shaped errors (403 for credentials, as AWS answers), elsewhere problems.</summary>
internal sealed class ApiKeyAuthMiddleware(RequestDelegate next, ApiKeyService keys, TimeProvider time)
{
    public const string HeaderName = "X-API-Key";
    /// <summary>HttpContext.Items entry holding the <see cref="AuthenticatedKey"/> of the request.</summary>
    public const string CallerItem = "tern.apiKey";

    /// <summary>Passes straight through (no async frame) when auth is off or the route is open.</summary>
    /// <summary>/v1/internal takes a per-call token instead of a key (Endpoints/InternalEndpoints).</summary>
    public Task InvokeAsync(HttpContext context) =>
        !keys.AuthEnabled || context.Request.Path.StartsWithSegments("/healthz") || context.Request.Path.StartsWithSegments(Endpoints.InternalEndpoints.Prefix)
            ? next(context) : AuthenticateAsync(context);

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
        var authorization = context.Request.Headers.Authorization.ToString();
        AuthenticatedKey? authenticated;
        if (SigV4Authorization.IsSigV4(authorization))
        {
            var (signed, failure, lambdaType) = await AuthenticateSigV4Async(context, authorization);
            if (signed is null)
            {
                keys.FailureThrottle.RecordFailure(client);
                await UnauthorizedAsync(context, "Bearer error=\"invalid_token\"", "Invalid signature", failure!, lambdaType!);
                return;
            }
            authenticated = signed;
        }
        else
        {
            var presented = ReadKey(context.Request);
            if (presented is null)
            {
                keys.FailureThrottle.RecordFailure(client);
                await UnauthorizedAsync(context, "Bearer", "API key required",
                    $"send an API key in the {HeaderName} header or as Authorization: Bearer KEY (or sign with AWS SigV4)",
                    LambdaErrorType.MissingAuthenticationToken);
                return;
            }
            authenticated = await keys.AuthenticateAsync(presented, context.RequestAborted);
            if (authenticated is null)
            {
                keys.FailureThrottle.RecordFailure(client);
                await UnauthorizedAsync(context, "Bearer error=\"invalid_token\"", "Invalid API key", "the API key is unknown or has been revoked",
                    LambdaErrorType.UnrecognizedClient);
                return;
            }
        }
        var key = authenticated.Key;
        var required = RequiresRole.For(context);
        if (key.Role < required)
        {
            await FailAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                $"API key '{key.Id}' has role {key.Role.Name()}; {context.Request.Method} {context.Request.Path} needs {required.Name()} or above",
                LambdaErrorType.AccessDenied);
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

    /// <summary>A SigV4 request: the key its access key id names, if the signature holds. Else why not, and the error
    /// type AWS answers with (UnrecognizedClientException for an unknown key id, InvalidSignatureException otherwise).</summary>
    private async Task<(AuthenticatedKey? Key, string? Failure, string? LambdaType)> AuthenticateSigV4Async(HttpContext context, string authorization)
    {
        var request = context.Request;
        if (!SigV4Authorization.TryParse(authorization, out var auth, out var malformed))
            return (null, malformed, LambdaErrorType.InvalidSignature);
        if (SigV4Verifier.CheckHeaders(request, auth, time.GetUtcNow()) is { } badHeaders) return (null, badHeaders, LambdaErrorType.InvalidSignature);
        string? failure = null;
        var known = false;
        var key = await keys.AuthenticateByIdAsync(auth.AccessKeyId, async record =>
        {
            known = true;
            failure = await SigV4Verifier.CheckSignatureAsync(request, auth, SigV4Verifier.SecretFor(record.Hash), context.RequestAborted);
            return failure is null;
        }, context.RequestAborted);
        if (key is not null) return (key, null, null);
        return known
            ? (null, failure ?? "the API key's creator has been revoked", LambdaErrorType.InvalidSignature)
            : (null, "The security token included in the request is invalid: no unrevoked API key has this access key id", LambdaErrorType.UnrecognizedClient);
    }

    private static Task UnauthorizedAsync(HttpContext context, string challenge, string title, string detail, string lambdaType)
    {
        if (!LambdaApi.IsLambdaPath(context.Request.Path)) context.Response.Headers.WWWAuthenticate = challenge;
        return FailAsync(context, StatusCodes.Status401Unauthorized, title, detail, lambdaType);
    }

    /// <summary>A problem, or under /2015-03-31 the Lambda error of <paramref name="lambdaType"/> (whose status it takes:
    /// AWS answers 403 where Tern's own API says 401).</summary>
    private static Task FailAsync(HttpContext context, int status, string title, string detail, string lambdaType) =>
        LambdaApi.IsLambdaPath(context.Request.Path)
            ? LambdaErrors.WriteAsync(context, lambdaType, detail)
            : WriteAsync(context, ProblemExceptionHandler.Problem(status, title, detail));

    private static Task WriteAsync(HttpContext context, ProblemDetails problem) =>
        LambdaApi.IsLambdaPath(context.Request.Path)
            ? problem.Status == StatusCodes.Status429TooManyRequests
                ? LambdaErrors.WriteAsync(context, LambdaErrorType.TooManyRequests, problem.Detail ?? "rate limited", reason: LambdaThrottleReason.CallerRate)
                : LambdaErrors.WriteAsync(context, LambdaErrorType.AccessDenied, problem.Detail ?? problem.Title ?? "refused")
            : ProblemResults.WriteAsync(context, problem);
}
