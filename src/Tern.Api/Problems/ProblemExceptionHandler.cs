using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tern.Core.Functions;
using Tern.Core.Telemetry;
using Tern.Drivers;
using Tern.Invocation.Admission;
using Tern.Invocation.Async;
using Tern.Pools;

namespace Tern.Api.Problems;

/// <summary>Turns the typed exceptions of the layers below into RFC 7807 problem bodies, in one place.
/// Anything unexpected is a 500 that is logged with its stack; the client sees only a generic problem.</summary>
internal sealed partial class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var problem = exception switch
        {
            FunctionValidationException e => Validation(e.Errors),
            FunctionNotFoundException e => Problem(StatusCodes.Status404NotFound, "Function not found", e.Message),
            VersionNotFoundException e => Problem(StatusCodes.Status404NotFound, "Version or alias not found", e.Message),
            FunctionAlreadyExistsException e => Problem(StatusCodes.Status409Conflict, "Function already exists", e.Message),
            BadHttpRequestException e => Problem(e.StatusCode, e.StatusCode == 413 ? "Request too large" : "Bad request", e.Message),
            JsonException e => Problem(StatusCodes.Status400BadRequest, "Malformed JSON", e.Message),
            WorkerStartException e => Problem(StatusCodes.Status503ServiceUnavailable, "No worker could be started", e.Message),
            PoolExhaustedException { QueueFull: true } e => TooManyRequests(context, "queue-full", "Queue full", e.Message, function: e.Function),
            PoolExhaustedException e => TooManyRequests(context, "capacity", "Function at capacity", e.Message, function: e.Function),
            QueueFullException e => TooManyRequests(context, "queue-full", "Queue full", e.Message, function: e.Function),
            RateLimitedException e => TooManyRequests(context, "rate-limit", "Rate limited", e.Message, e.RetryAfterSeconds),
            IdempotencyConflictException e => StillRunning(e),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => null,
            _ => null,
        };
        if (problem is null)
        {
            if (!context.RequestAborted.IsCancellationRequested) LogUnexpected(exception, context.Request.Path);
            problem = Problem(StatusCodes.Status500InternalServerError, "Internal error", "an unexpected error occurred; see the daemon log");
        }
        await ProblemResults.WriteAsync(context, problem);
        return true;
    }

    /// <summary>429: Retry-After is a hint; X-Tern-Reject-Reason says which limit (capacity, queue-full, rate-limit).
    /// Every rejection is counted here (tern_rejections_total), labelled with the function when known.</summary>
    internal static ProblemDetails TooManyRequests(HttpContext context, string reason, string title, string detail, int retryAfterSeconds = 1,
        string? function = null)
    {
        context.RequestServices.GetService<TernMetrics>()?.Rejections.Add(1,
            TernMetrics.Function(function ?? FunctionInPath(context.Request.Path.Value) ?? ""), new("reason", reason));
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString();
        context.Response.Headers["X-Tern-Reject-Reason"] = reason;
        return Problem(StatusCodes.Status429TooManyRequests, title, detail);
    }

    /// <summary>The {name} of /v1/functions/{name}... (route values are cleared by the time an exception is handled).</summary>
    private static string? FunctionInPath(string? path)
    {
        const string prefix = "/v1/functions/";
        if (path is null || !path.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var name = path[prefix.Length..];
        var end = name.IndexOfAny([':', '/']);
        return end < 0 ? name : name[..end];
    }

    /// <summary>409: a replayed Idempotency-Key whose call is still running; executionId says which to poll.</summary>
    private static ProblemDetails StillRunning(IdempotencyConflictException e)
    {
        var problem = Problem(StatusCodes.Status409Conflict, "Still running", e.Message);
        if (e.ExecutionId.Length > 0) problem.Extensions["executionId"] = e.ExecutionId;
        return problem;
    }

    internal static ProblemDetails Problem(int status, string title, string detail) =>
        new() { Status = status, Title = title, Detail = detail, Type = $"https://httpstatuses.io/{status}" };

    internal static ProblemDetails Validation(IReadOnlyDictionary<string, string[]> errors) =>
        new HttpValidationProblemDetails(errors.ToDictionary())
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "Invalid function definition",
            Detail = string.Join(" ", errors.SelectMany(e => e.Value)),
            Type = "https://httpstatuses.io/400",
        };

    [LoggerMessage(EventId = 500, Level = LogLevel.Error, Message = "unhandled error on {Path}")]
    private partial void LogUnexpected(Exception exception, string path);
}
