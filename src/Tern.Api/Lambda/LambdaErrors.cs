using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tern.Core.Functions;
using Tern.Core.Telemetry;
using Tern.Drivers;
using Tern.Invocation.Admission;
using Tern.Invocation.Async;
using Tern.Pools;

namespace Tern.Api.Lambda;

/// <summary>Errors of the Lambda API. Each is the Lambda shape (the X-Amzn-ErrorType header, which the SDKs read first,
/// and a body with Type and Message) and, in the same JSON object, an RFC 7807 problem (type, title = the error type,
/// status, detail) served as application/problem+json, as every other Tern error: botocore and the other SDKs parse the
/// body as JSON whatever its media type, and ignore the problem's members.</summary>
internal static class LambdaErrors
{
    public const string ErrorTypeHeader = "X-Amzn-ErrorType";
    public const string RequestIdHeader = "X-Amzn-RequestId";

    public static Task WriteAsync(HttpContext context, string type, string message, int? retryAfterSeconds = null, string? reason = null)
    {
        var status = LambdaErrorType.Status(type);
        var response = context.Response;
        response.StatusCode = status;
        response.Headers[ErrorTypeHeader] = type;
        if (!response.Headers.ContainsKey(RequestIdHeader)) response.Headers[RequestIdHeader] = Guid.NewGuid().ToString();
        if (retryAfterSeconds is int seconds) response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.ContentType = "application/problem+json";
        using var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer, LambdaErrorPayload.RelaxedJson))
        {
            json.WriteStartObject();
            json.WriteString("type", $"https://httpstatuses.io/{status}");
            json.WriteString("title", type);
            json.WriteNumber("status", status);
            json.WriteString("detail", message);
            json.WriteString("Type", "User");
            json.WriteString(LambdaErrorType.CapitalMessage(type) ? "Message" : "message", message);
            if (reason is not null) json.WriteString("Reason", reason);
            json.WriteEndObject();
        }
        response.ContentLength = buffer.Length;
        return response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)).AsTask();
    }

    public static IResult Result(string type, string message, int? retryAfterSeconds = null, string? reason = null) =>
        new LambdaErrorResult(type, message, retryAfterSeconds, reason);

    /// <summary>Maps the exceptions of the layers below (the same ones ProblemExceptionHandler maps for /v1) to Lambda
    /// error types; null for an exception that is a bug (the caller logs it and answers ServiceException).</summary>
    public static LambdaException? Map(Exception exception) => exception switch
    {
        LambdaException e => e,
        FunctionValidationException e => new(LambdaErrorType.InvalidParameterValue,
            string.Join(" ", e.Errors.Select(kv => $"{LambdaFieldNames.For(kv.Key)}: {string.Join(" ", kv.Value)}"))),
        FunctionNotFoundException e => new(LambdaErrorType.ResourceNotFound, $"Function not found: {e.Name}"),
        VersionNotFoundException e => new(LambdaErrorType.ResourceNotFound, e.Message),
        FunctionAlreadyExistsException e => new(LambdaErrorType.ResourceConflict, $"Function already exist: {e.Message}"),
        BadHttpRequestException { StatusCode: 413 } e => new(LambdaErrorType.RequestTooLarge, e.Message),
        BadHttpRequestException e => new(LambdaErrorType.InvalidRequestContent, e.Message),
        JsonException e => new(LambdaErrorType.InvalidRequestContent, $"Could not parse request body into json: {e.Message}"),
        WorkerStartException e => new(LambdaErrorType.Service, $"no worker could be started: {e.Message}"),
        PoolExhaustedException e => new(LambdaErrorType.TooManyRequests, e.Message, 1, LambdaThrottleReason.Concurrency),
        QueueFullException e => new(LambdaErrorType.TooManyRequests, e.Message, 1, LambdaThrottleReason.Concurrency),
        RateLimitedException e => new(LambdaErrorType.TooManyRequests, e.Message, e.RetryAfterSeconds, LambdaThrottleReason.FunctionRate),
        IdempotencyConflictException e => new(LambdaErrorType.ResourceConflict, e.Message),
        _ => null,
    };

    /// <summary>The endpoint filter of every Lambda route: an exception becomes a Lambda error, never a bare 500.</summary>
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        try
        {
            return await next(invocation);
        }
        catch (Exception e) when (!(e is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            if (Map(e) is { } mapped)
            {
                if (RejectReason(e) is { } reason)
                    context.RequestServices.GetService<TernMetrics>()?.Rejections.Add(1, TernMetrics.Function(FunctionOf(e) ?? ""), new("reason", reason));
                return Result(mapped.Type, mapped.Message, mapped.RetryAfterSeconds, mapped.Reason);
            }
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LambdaErrors))
                .LogError(e, "unhandled error on {Path}", context.Request.Path);
            return Result(LambdaErrorType.Service, "an unexpected error occurred; see the daemon log");
        }
    }

    /// <summary>The tern_rejections_total reason of a 429, as /v1 counts it.</summary>
    private static string? RejectReason(Exception e) => e switch
    {
        PoolExhaustedException { QueueFull: true } or QueueFullException => "queue-full",
        PoolExhaustedException => "capacity",
        RateLimitedException => "rate-limit",
        _ => null,
    };

    private static string? FunctionOf(Exception e) => e switch
    {
        PoolExhaustedException p => p.Function,
        QueueFullException q => q.Function,
        _ => null,
    };

    private sealed class LambdaErrorResult(string type, string message, int? retryAfterSeconds, string? reason) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, type, message, retryAfterSeconds, reason);
    }
}
