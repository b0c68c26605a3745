using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Api.Serialization;
using Tern.Core.Executions;
using Tern.Core.Functions;
using Tern.Core.Invocations;
using Tern.Invocation;

namespace Tern.Api.Endpoints;

/// <summary>POST /v1/functions/{name}:invoke (sync) and :enqueue (async). A handler failure is a 200 with status
/// "error" (as Lambda reports function errors); platform failures are problems with a 4xx/5xx status.</summary>
internal static class InvokeEndpoints
{
    public const string ExecutionIdHeader = "X-Execution-Id";
    public const string TraceIdHeader = "X-Trace-Id";
    public const string TraceParentHeader = "traceparent";
    public const string CallbackUrlHeader = "X-Callback-Url";

    public static void MapInvokeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/functions/{name}:invoke", InvokeAsync).WithTags("Invocation").WithName("InvokeFunction")
            .Produces<InvocationResult>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(413).ProducesProblem(429).ProducesProblem(503);
        app.MapPost("/v1/functions/{name}:enqueue", EnqueueAsync).WithTags("Invocation").WithName("EnqueueFunction")
            .Produces<EnqueueResponse>(StatusCodes.Status202Accepted).ProducesProblem(400).ProducesProblem(404).ProducesProblem(413).ProducesProblem(429);
    }

    private static async Task<IResult> InvokeAsync(string name, HttpRequest request, HttpResponse response,
        InvocationService invocations, CancellationToken ct)
    {
        var (document, problem) = await ReadEventAsync(name, request, ct);
        if (problem is not null) return problem;
        using (document)
        {
            var options = TraceOptions(request, response);
            var result = await invocations.InvokeAsync(name, document!.RootElement, options, ct);
            response.Headers[ExecutionIdHeader] = result.ExecutionId;
            return Results.Json(result, ApiJsonContext.Default.InvocationResult);
        }
    }

    private static async Task<IResult> EnqueueAsync(string name, HttpRequest request, HttpResponse response,
        InvocationService invocations, CancellationToken ct)
    {
        var (document, problem) = await ReadEventAsync(name, request, ct);
        if (problem is not null) return problem;
        var callback = request.Headers[CallbackUrlHeader].FirstOrDefault();
        if (callback is not null && !(Uri.TryCreate(callback, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            return Problems.Problems.BadRequest("Invalid callback", $"{CallbackUrlHeader} must be an absolute http(s) URL");
        using (document)
        {
            var options = TraceOptions(request, response) with { CallbackUrl = callback };
            var record = await invocations.EnqueueAsync(name, document!.RootElement, options, ct);
            response.Headers[ExecutionIdHeader] = record.ExecutionId;
            return Results.Json(new EnqueueResponse(record.ExecutionId, ExecutionStatus.Queued), ApiJsonContext.Default.EnqueueResponse,
                statusCode: StatusCodes.Status202Accepted);
        }
    }

    /// <summary>The event: JSON of at most 6 MB; an empty body is {}.</summary>
    private static async Task<(JsonDocument? Document, IResult? Problem)> ReadEventAsync(string name, HttpRequest request, CancellationToken ct)
    {
        if (!FunctionNames.IsValid(name)) throw new FunctionNotFoundException(name);
        var body = await RequestBody.ReadAsync(request, FunctionLimits.MaxEventBytes, ct);
        if (body is null)
            return (null, Problems.Problems.TooLarge($"the event may be at most {FunctionLimits.MaxEventBytes} bytes ({FunctionLimits.MaxEventBytes / (1024 * 1024)} MB)"));
        try
        {
            return (body.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(body), null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Problems.BadRequest("Malformed event", $"the event must be JSON: {e.Message}"));
        }
    }

    /// <summary>X-Trace-Id (generated when absent) and traceparent go to the handler and back to the caller.</summary>
    private static InvocationOptions TraceOptions(HttpRequest request, HttpResponse response)
    {
        var traceId = request.Headers[TraceIdHeader].FirstOrDefault() is { Length: > 0 and <= 128 } given ? given : Guid.NewGuid().ToString("N");
        var traceParent = request.Headers[TraceParentHeader].FirstOrDefault() is { Length: > 0 and <= 128 } tp ? tp : null;
        response.Headers[TraceIdHeader] = traceId;
        if (traceParent is not null) response.Headers[TraceParentHeader] = traceParent;
        return new InvocationOptions(traceId, traceParent);
    }
}
