using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Core.Functions;
using Tern.Core.Invocations;
using Tern.Invocation;

namespace Tern.Api.Endpoints;

/// <summary>POST /v1/functions/{name}:invoke — the synchronous call. A handler failure is a 200 with status
/// "error" (as Lambda reports function errors); platform failures are problems with a 4xx/5xx status.</summary>
internal static class InvokeEndpoints
{
    public const string ExecutionIdHeader = "X-Execution-Id";
    public const string TraceIdHeader = "X-Trace-Id";

    public static void MapInvokeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/functions/{name}:invoke", InvokeAsync).WithTags("Invocation").WithName("InvokeFunction")
            .Produces<InvocationResult>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(413).ProducesProblem(503);
    }

    private static async Task<IResult> InvokeAsync(string name, HttpRequest request, HttpResponse response,
        FunctionInvoker invoker, CancellationToken ct)
    {
        if (!FunctionNames.IsValid(name)) throw new FunctionNotFoundException(name);
        var body = await RequestBody.ReadAsync(request, FunctionLimits.MaxEventBytes, ct);
        if (body is null)
            return Problems.Problems.TooLarge($"the event may be at most {FunctionLimits.MaxEventBytes} bytes ({FunctionLimits.MaxEventBytes / (1024 * 1024)} MB)");

        JsonDocument document;
        try
        {
            document = body.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return Problems.Problems.BadRequest("Malformed event", $"the event must be JSON: {e.Message}");
        }
        using (document)
        {
            var traceId = request.Headers[TraceIdHeader].FirstOrDefault() is { Length: > 0 and <= 128 } given ? given : Guid.NewGuid().ToString("N");
            var result = await invoker.InvokeAsync(new InvocationRequest(name, document.RootElement, traceId), ct);
            response.Headers[ExecutionIdHeader] = result.ExecutionId;
            response.Headers[TraceIdHeader] = traceId;
            // The output comes from the agent's answer, not from this request's document, so it outlives the using.
            return Results.Json(result, Serialization.ApiJsonContext.Default.InvocationResult);
        }
    }
}
