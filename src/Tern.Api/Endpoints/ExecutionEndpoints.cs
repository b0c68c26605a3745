using Tern.Api.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Api.Auth;
using Tern.Api.Serialization;
using Tern.Core.Executions;
using Tern.Invocation;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Endpoints;

/// <summary>Execution records and dead letters.</summary>
internal static class ExecutionEndpoints
{
    public static void MapExecutionEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/executions", async ([AsParameters] ExecutionListQuery parameters, InvocationService invocations, CancellationToken ct) =>
                parameters.TryRead(out var query, out var problem)
                    ? Results.Json(await ListAsync(invocations, query!, ct), ApiJsonContext.Default.ExecutionList)
                    : problem!)
            .WithTags("Executions").WithName("ListExecutions").Produces<ExecutionList>().ProducesProblem(400)
            .WithSummary("Execution records, newest first: ?function=&status=&since=&limit=&cursor=");

        app.MapGet("/v1/executions/{id}", async (string id, InvocationService invocations, CancellationToken ct) =>
                await invocations.GetAsync(id, ct) is { } record
                    ? Results.Json(ExecutionView.From(record), ApiJsonContext.Default.ExecutionView)
                    : ProblemResults.NotFound("Execution not found", $"execution '{id}' does not exist (or has expired)"))
            .WithTags("Executions").WithName("GetExecution").Produces<ExecutionView>().ProducesProblem(404);

        app.MapGet("/v1/functions/{name}/dead-letters", async (string name, int? limit, InvocationService invocations, CancellationToken ct) =>
            {
                var records = await invocations.DeadLettersAsync(name, Math.Clamp(limit ?? 100, 1, 1000), ct);
                return Results.Json(new DeadLetterList([.. records.Select(ExecutionView.From)]), ApiJsonContext.Default.DeadLetterList);
            })
            .WithTags("Executions").WithName("ListDeadLetters").Produces<DeadLetterList>().ProducesProblem(404);

        app.MapPost("/v1/dead-letters/{id}:redrive", async (string id, HttpResponse response, InvocationService invocations, CancellationToken ct) =>
            {
                if (await invocations.RedriveAsync(id, ct) is not { } record)
                    return ProblemResults.NotFound("Dead letter not found", $"execution '{id}' is not in a dead-letter list");
                response.Headers[InvokeEndpoints.ExecutionIdHeader] = record.ExecutionId;
                return Results.Json(ExecutionView.From(record), ApiJsonContext.Default.ExecutionView, statusCode: StatusCodes.Status202Accepted);
            })
            .WithTags("Executions").WithName("RedriveDeadLetter").RequireRole(ApiKeyRole.Invoke).Produces<ExecutionView>(StatusCodes.Status202Accepted).ProducesProblem(404);
    }

    private static async Task<ExecutionList> ListAsync(InvocationService invocations, Tern.Storage.ExecutionQuery query, CancellationToken ct)
    {
        var page = await invocations.ListAsync(query, ct);
        return new ExecutionList([.. page.Executions.Select(ExecutionView.From)], page.Next?.Encode());
    }
}