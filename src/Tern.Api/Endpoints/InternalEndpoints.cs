using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Agent.Protocol;
using Tern.Api.Problems;
using Tern.Drivers.Completions;

namespace Tern.Api.Endpoints;

/// <summary>Routes for Tern's own workers, not for users: a kubernetes Job's pod reports its call's result here
/// (docs/kubernetes.md). They take no API key (the auth middleware passes /v1/internal through); each call's own token,
/// minted by the daemon and handed to that pod alone, is the credential.</summary>
internal static class InternalEndpoints
{
    public const string Prefix = "/v1/internal";

    public static void MapInternalEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(Prefix + "/executions/{id}:complete", async (string id, HttpRequest request, IExecutionCompletions completions, CancellationToken ct) =>
            {
                var authorization = request.Headers.Authorization.ToString();
                if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || authorization.Length <= "Bearer ".Length)
                    return Unauthorized("send the call's token as Authorization: Bearer TOKEN");
                var body = await RequestBody.ReadAsync(request, AgentChannel.DefaultMaxFrameBytes, ct);
                if (body is null) return ProblemResults.TooLarge($"a result may take at most {AgentChannel.DefaultMaxFrameBytes} bytes");
                var result = RequestBody.ParseJson(body, AgentJsonContext.Default.RespMessage);
                if (result.Status is not ("success" or "error" or "timeout"))
                    return ProblemResults.BadRequest("Invalid result", $"status must be success, error or timeout, not '{result.Status}'");
                return completions.Complete(id, authorization["Bearer ".Length..].Trim(), result) switch
                {
                    CompletionOutcome.Accepted => Results.NoContent(),
                    CompletionOutcome.UnknownExecution => ProblemResults.NotFound("Execution not waiting", $"no call '{id}' is waiting for a result"),
                    CompletionOutcome.WrongToken => ProblemResults.Forbidden($"the token is not the one minted for call '{id}'"),
                    _ => ProblemResults.Conflict("Already completed", $"call '{id}' already has its result (or was given up)"),
                };
            })
            .ExcludeFromDescription();
    }

    private static IResult Unauthorized(string detail)
    {
        var problem = ProblemExceptionHandler.Problem(StatusCodes.Status401Unauthorized, "Token required", detail);
        return Results.Problem(problem);
    }
}
