using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Auth;
using Tern.Api.Endpoints;
using Tern.Core.Functions;
using Tern.Core.Invocations;
using Tern.Invocation;
using Tern.Json;
using Tern.Registry;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Lambda;

/// <summary>Invoke (POST /2015-03-31/functions/{FunctionName}/invocations) over Tern's InvocationService: RequestResponse
/// runs the call now; Event takes Tern's durable async path (the call is committed before the 202, then retried as
/// Tern retries); DryRun only checks that the function and qualifier resolve (204). Each call is a Tern execution whose
/// id comes back as X-Amzn-RequestId (and X-Execution-Id), so GET /v1/executions/{id} and the logs find it.</summary>
internal static class LambdaInvokeEndpoint
{
    public const string InvocationTypeHeader = "X-Amz-Invocation-Type";
    public const string LogTypeHeader = "X-Amz-Log-Type";
    public const string FunctionErrorHeader = "X-Amz-Function-Error";
    public const string LogResultHeader = "X-Amz-Log-Result";
    public const string ExecutedVersionHeader = "X-Amz-Executed-Version";
    public const string AmznTraceHeader = "X-Amzn-Trace-Id";

    public static void MapLambdaInvokeEndpoint(this RouteGroupBuilder group)
    {
        group.MapPost("/functions/{FunctionName}/invocations", InvokeAsync).WithName("LambdaInvoke").RequireRole(ApiKeyRole.Invoke)
            .Produces(StatusCodes.Status200OK, contentType: "application/json").Produces(StatusCodes.Status202Accepted).Produces(StatusCodes.Status204NoContent);
    }

    private static async Task<IResult> InvokeAsync(HttpContext context, string FunctionName)
    {
        var (request, response, ct, services) = (context.Request, context.Response, context.RequestAborted, context.RequestServices);
        var target = LambdaFunctionName.Parse(FunctionName, LambdaPage.Query(request, "Qualifier"));
        target.ThrowIfUnknownShape();
        var type = request.Headers[InvocationTypeHeader].ToString() switch
        {
            "" or "RequestResponse" => "RequestResponse",
            "Event" => "Event",
            "DryRun" => "DryRun",
            var other => throw LambdaRefusals.Refuse($"{InvocationTypeHeader} '{other}' is not valid: RequestResponse, Event or DryRun"),
        };
        var tail = request.Headers[LogTypeHeader].ToString() switch
        {
            "" or "None" => false,
            "Tail" => type == "RequestResponse",
            var other => throw LambdaRefusals.Refuse($"{LogTypeHeader} '{other}' is not valid: None or Tail"),
        };
        if (type == "DryRun")
        {
            await services.GetRequiredService<VersionResolver>().ResolveAsync(target.Name, target.Qualifier, ct);
            return Results.NoContent();
        }
        var input = await ReadPayloadAsync(request, type == "Event" ? FunctionLimits.MaxAsyncEventBytes : FunctionLimits.MaxEventBytes, ct);
        var options = new InvocationOptions(TraceId(request), Qualifier: target.Qualifier);
        var invocations = services.GetRequiredService<InvocationService>();
        if (type == "Event")
        {
            var (record, _) = await invocations.EnqueueCallAsync(target.Name, input, options, ct);
            SetIds(response, record.ExecutionId);
            return Results.StatusCode(StatusCodes.Status202Accepted);
        }
        var started = await invocations.StartInvokeAsync(target.Name, input, options, ct);
        var result = await started.Result;
        SetIds(response, started.ExecutionId);
        var version = result.Version ?? Qualifiers.Latest;
        response.Headers[ExecutedVersionHeader] = version;
        FunctionDefinition? function = null;
        if (tail || result.Status != InvocationStatus.Success)
            function = (await services.GetRequiredService<VersionResolver>().ResolveAsync(target.Name, version, ct)).Definition;
        if (tail) response.Headers[LogResultHeader] = LambdaLogTail.Build(started.ExecutionId, version, result, function!.MemoryMb);
        if (result.Status == InvocationStatus.Success)
            return Results.Bytes(result.Output is { } output ? output.Utf8 : RawJson.Null.Utf8, "application/json");
        response.Headers[FunctionErrorHeader] = "Unhandled";
        return Results.Bytes(LambdaErrorPayload.From(result.Error, function!.TimeoutMs / 1000.0), "application/json");
    }

    /// <summary>The payload: JSON within the limit (6 MB sync, 1 MB Event, as Lambda's); empty is {}.</summary>
    private static async Task<RawJson> ReadPayloadAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        var body = await RequestBody.ReadAsync(request, limit, ct)
            ?? throw new LambdaException(LambdaErrorType.RequestTooLarge, $"Request must be smaller than {limit} bytes for the Invoke operation");
        if (body.Length == 0) return RawJson.EmptyObject;
        return RawJson.TryCreate(body, out var input, out var error)
            ? input
            : throw new LambdaException(LambdaErrorType.InvalidRequestContent, $"Could not parse request body into json: {error}");
    }

    private static void SetIds(HttpResponse response, string executionId)
    {
        response.Headers[LambdaErrors.RequestIdHeader] = executionId;
        response.Headers[InvokeEndpoints.ExecutionIdHeader] = executionId;
    }

    /// <summary>X-Amzn-Trace-Id as Tern's trace id when it is one Tern accepts (1..128 printable ASCII, no spaces).</summary>
    private static string TraceId(HttpRequest request) =>
        request.Headers[AmznTraceHeader].ToString() is { Length: > 0 and <= 128 } given && given.All(c => c is > ' ' and < (char)127)
            ? given
            : Guid.NewGuid().ToString("N");
}
