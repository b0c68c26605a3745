using Tern.Api.Problems;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Auth;
using Tern.Api.Serialization;
using Tern.Core.Executions;
using Tern.Core.Functions;
using Tern.Core.Invocations;
using Tern.Invocation;
using Tern.Invocation.Admission;
using Tern.Invocation.Callbacks;
using Tern.Json;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Endpoints;

/// <summary>POST /v1/functions/{name}:invoke (sync) and :enqueue (async). A handler failure is a 200 with status
/// "error" (as Lambda reports function errors); platform failures are problems with a 4xx/5xx status.</summary>
internal static class InvokeEndpoints
{
    public const string ExecutionIdHeader = "X-Execution-Id";
    public const string TraceIdHeader = "X-Trace-Id";
    public const string TraceParentHeader = "traceparent";
    public const string CallbackUrlHeader = "X-Callback-Url";
    public const string IdempotencyKeyHeader = Idempotency.Header;
    /// <summary>Sent (true) when an Idempotency-Key matched an earlier call, whose id and result come back instead.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";
    /// <summary>Sync only: how long this caller waits; past it a 408 names the execution, which goes on.</summary>
    public const string TimeoutHeader = "X-Timeout-Ms";
    /// <summary>Sync only: which published version ran ("3"), or "$LATEST".</summary>
    public const string VersionHeader = "X-Tern-Version";
    /// <summary>Sync only, as Lambda's Invoke sends it: "Unhandled" when the function failed (its exception, a timeout, a
    /// crash), so Lambda clients tell a function error from a successful result without reading the body.</summary>
    public const string FunctionErrorHeader = "X-Amz-Function-Error";

    public static void MapInvokeEndpoints(this IEndpointRouteBuilder app)
    {
        // Plain request delegates over the singleton service: a call binds nothing through DI (no request scope) and
        // makes no result object; the metadata below keeps the OpenAPI document as it was.
        var invocations = app.ServiceProvider.GetRequiredService<InvocationService>();
        app.MapPost("/v1/functions/{name}:invoke", (Func<HttpContext, Task>)(context => InvokeAsync(context, invocations)))
            .WithTags("Invocation").WithName("InvokeFunction").RequireRole(ApiKeyRole.Invoke)
            .Produces<InvocationResult>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(408).ProducesProblem(409).ProducesProblem(413).ProducesProblem(429).ProducesProblem(503);
        var callbackTargets = app.ServiceProvider.GetRequiredService<CallbackTargets>();
        app.MapPost("/v1/functions/{name}:enqueue", (Func<HttpContext, Task>)(context => EnqueueAsync(context, invocations, callbackTargets)))
            .WithTags("Invocation").WithName("EnqueueFunction").RequireRole(ApiKeyRole.Invoke)
            .Produces<EnqueueResponse>(StatusCodes.Status202Accepted).ProducesProblem(400).ProducesProblem(404).ProducesProblem(413).ProducesProblem(429);
    }

    private static async Task InvokeAsync(HttpContext context, InvocationService invocations)
    {
        var arrived = Stopwatch.GetTimestamp();
        var request = context.Request;
        var response = context.Response;
        var name = (string)request.RouteValues["name"]!;
        var ct = context.RequestAborted;
        var badKey = ReadIdempotencyKey(request, out var key);
        var badWait = ReadWaitCap(request, out var waitMs);
        var badQualifier = ReadQualifier(ref name, request, out var qualifier);
        var bad = badKey ?? badWait ?? badQualifier ?? CheckTraceId(request);
        if (bad is not null)
        {
            await bad.ExecuteAsync(context);
            return;
        }
        var (input, problem) = await ReadEventAsync(name, request, FunctionLimits.MaxEventBytes, ct);
        if (problem is not null)
        {
            await problem.ExecuteAsync(context);
            return;
        }
        var options = TraceOptions(request, response, key, recordWhileRunning: waitMs is not null, qualifier);
        if (waitMs is not int ms)
        {
            var started = await invocations.StartInvokeAsync(name, input, options, ct);
            await AnswerAsync(response, started, await started.Result);
            return;
        }
        using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = await invocations.StartInvokeAsync(name, input, options, stopWaiting.Token);
        var left = TimeSpan.FromMilliseconds(ms) - Stopwatch.GetElapsedTime(arrived);
        InvocationResult result;
        try
        {
            result = await run.Result.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, ct);
        }
        catch (TimeoutException) when (!run.Result.IsCompleted)
        {
            // The caller stops waiting; the run goes on (its record finishes), a replay stops polling.
            await stopWaiting.CancelAsync();
            _ = run.Result.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            SetIds(response, run);
            await CallerTimeout(run.ExecutionId, ms).ExecuteAsync(context);
            return;
        }
        catch (TimeoutException)
        {
            // The wait ran out just as the run finished (an X-Timeout-Ms of 1 does this): the result is there, answer it.
            result = await run.Result;
        }
        await AnswerAsync(response, run, result);
    }

    private static Task AnswerAsync(HttpResponse response, StartedInvocation started, InvocationResult result)
    {
        SetIds(response, started);
        if (result.Version is { } ran) response.Headers[VersionHeader] = ran;
        if (result.Status != InvocationStatus.Success) response.Headers[FunctionErrorHeader] = "Unhandled";
        return response.WriteAsJsonAsync(result, ApiJsonContext.Default.InvocationResult);
    }

    private static void SetIds(HttpResponse response, StartedInvocation started)
    {
        response.Headers[ExecutionIdHeader] = started.ExecutionId;
        if (started.Replayed) response.Headers[ReplayedHeader] = "true";
    }

    private static async Task EnqueueAsync(HttpContext context, InvocationService invocations, CallbackTargets callbackTargets)
    {
        var request = context.Request;
        var response = context.Response;
        var name = (string)request.RouteValues["name"]!;
        var ct = context.RequestAborted;
        var badKey = ReadIdempotencyKey(request, out var key);
        var badQualifier = ReadQualifier(ref name, request, out var qualifier);
        var bad = badKey ?? badQualifier ?? CheckTraceId(request);
        if (bad is not null)
        {
            await bad.ExecuteAsync(context);
            return;
        }
        var (input, problem) = await ReadEventAsync(name, request, FunctionLimits.MaxAsyncEventBytes, ct);
        if (problem is not null)
        {
            await problem.ExecuteAsync(context);
            return;
        }
        var callback = request.Headers[CallbackUrlHeader].FirstOrDefault();
        if (callback is not null && await callbackTargets.CheckAsync(callback, ct) is { } refused)
        {
            await ProblemResults.BadRequest("Invalid callback", $"{CallbackUrlHeader} cannot be used: {refused}").ExecuteAsync(context);
            return;
        }
        var options = TraceOptions(request, response, key, recordWhileRunning: false, qualifier) with { CallbackUrl = callback };
        var (record, replayed) = await invocations.EnqueueCallAsync(name, input, options, ct);
        response.Headers[ExecutionIdHeader] = record.ExecutionId;
        if (replayed) response.Headers[ReplayedHeader] = "true";
        response.StatusCode = StatusCodes.Status202Accepted;
        await response.WriteAsJsonAsync(new EnqueueResponse(record.ExecutionId, replayed ? record.Status : ExecutionStatus.Queued),
            ApiJsonContext.Default.EnqueueResponse);
    }

    /// <summary>The version or alias to run: <c>name:3</c> / <c>name:prod</c> in the path (the route's {name} holds it), or
    /// <c>?qualifier=</c>; both only when they agree. Null means $LATEST.</summary>
    private static IResult? ReadQualifier(ref string name, HttpRequest request, out string? qualifier)
    {
        qualifier = null;
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            qualifier = name[(colon + 1)..];
            name = name[..colon];
        }
        var query = request.QueryString.HasValue ? request.Query["qualifier"] : default;
        if (query.Count > 1 || (query.Count == 1 && qualifier is not null && query[0] != qualifier))
            return ProblemResults.BadRequest("Invalid qualifier", "give the version or alias once: name:3 in the path or ?qualifier=3");
        if (query.Count == 1) qualifier = query[0];
        if (qualifier is not null && Qualifiers.Check(qualifier) is { } wrong) return ProblemResults.BadRequest("Invalid qualifier", wrong);
        return null;
    }

    /// <summary>X-Trace-Id: absent, or one value of 1..128 printable ASCII characters (it is echoed back, and a control
    /// character cannot be put in a response header).</summary>
    private static IResult? CheckTraceId(HttpRequest request)
    {
        var values = request.Headers[TraceIdHeader];
        if (values.Count == 0) return null;
        if (values.Count == 1 && values[0] is { Length: > 0 and <= 128 } id && id.All(c => c is > ' ' and < (char)127)) return null;
        return ProblemResults.BadRequest("Invalid trace id", $"{TraceIdHeader} must be one value of 1 to 128 printable ASCII characters without spaces");
    }

    /// <summary>Idempotency-Key: absent, or one value of 1..200 printable ASCII characters.</summary>
    private static IResult? ReadIdempotencyKey(HttpRequest request, out string? key)
    {
        key = null;
        var values = request.Headers[IdempotencyKeyHeader];
        if (values.Count == 0) return null;
        if (values.Count > 1 || !Idempotency.IsValidKey(values[0]))
            return ProblemResults.BadRequest("Invalid idempotency key",
                $"{IdempotencyKeyHeader} must be one value of 1 to {Idempotency.MaxKeyLength} printable ASCII characters");
        key = values[0];
        return null;
    }

    /// <summary>X-Timeout-Ms: absent, or how long (1..900000 ms) this caller waits for a sync result.</summary>
    private static IResult? ReadWaitCap(HttpRequest request, out int? waitMs)
    {
        waitMs = null;
        var values = request.Headers[TimeoutHeader];
        if (values.Count == 0) return null;
        if (values.Count > 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || ms is < 1 or > FunctionLimits.MaxTimeoutMs)
            return ProblemResults.BadRequest("Invalid timeout", $"{TimeoutHeader} must be a whole number of milliseconds from 1 to {FunctionLimits.MaxTimeoutMs}");
        waitMs = ms;
        return null;
    }

    /// <summary>408: the caller's X-Timeout-Ms ran out; the execution itself continues and can be polled.</summary>
    private static IResult CallerTimeout(string executionId, int waitMs)
    {
        var problem = Problems.ProblemExceptionHandler.Problem(StatusCodes.Status408RequestTimeout, "Stopped waiting",
            $"no result within {waitMs} ms ({TimeoutHeader}); execution {executionId} continues and its record will hold the outcome: GET /v1/executions/{executionId}");
        problem.Extensions["executionId"] = executionId;
        return Results.Problem(problem);
    }

    /// <summary>The event: at most <paramref name="limit"/> bytes (6 MB sync, 1 MB async, as on Lambda); an empty body is
    /// {}; a body that is not JSON is wrapped as API Gateway's binary events are (<see cref="EventBody"/>). Checked here
    /// once; its bytes then travel to the worker and into the record as they are.</summary>
    private static async ValueTask<(RawJson Input, IResult? Problem)> ReadEventAsync(string name, HttpRequest request, int limit, CancellationToken ct)
    {
        if (!FunctionNames.IsValid(name)) throw new FunctionNotFoundException(name);
        var body = await RequestBody.ReadAsync(request, limit, ct);
        if (body is null)
            return (default, ProblemResults.TooLarge($"the event may be at most {limit} bytes ({limit / 1024} KB) for this call"));
        return EventBody.From(body, request.ContentType, limit);
    }

    /// <summary>X-Trace-Id (generated when absent) and traceparent go to the handler and back to the caller.</summary>
    /// <summary>A traceparent that is not W3C's <c>00-{32 hex}-{16 hex}-{2 hex}</c> is ignored (as the spec says), not
    /// echoed or passed on.</summary>
    private static InvocationOptions TraceOptions(HttpRequest request, HttpResponse response, string? idempotencyKey, bool recordWhileRunning,
        string? qualifier)
    {
        var traceId = request.Headers[TraceIdHeader].FirstOrDefault() is { Length: > 0 } given ? given : Guid.NewGuid().ToString("N");
        var traceParent = request.Headers[TraceParentHeader].FirstOrDefault() is { } tp && System.Diagnostics.ActivityContext.TryParse(tp, null, out _) ? tp : null;
        response.Headers[TraceIdHeader] = traceId;
        if (traceParent is not null) response.Headers[TraceParentHeader] = traceParent;
        return new InvocationOptions(traceId, traceParent, IdempotencyKey: idempotencyKey, RecordWhileRunning: recordWhileRunning, Qualifier: qualifier);
    }
}
