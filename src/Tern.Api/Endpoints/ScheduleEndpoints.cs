using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Api.Auth;
using Tern.Api.Problems;
using Tern.Invocation.Scheduling;
using Tern.Json;
using Tern.Storage.ApiKeys;
using Tern.Storage.Schedules;

namespace Tern.Api.Endpoints;

/// <summary>/v1/schedules: create, list, read, change (enable/disable, payload, expression, timezone) and delete
/// schedules. A bad expression, time zone or unknown function is a 400 validation problem naming the field.</summary>
internal static class ScheduleEndpoints
{
    private const long MaxBodyBytes = ScheduleService.MaxPayloadBytes + 16 * 1024;

    public static void MapScheduleEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/schedules").WithTags("Schedules");
        group.MapPost("", async (HttpRequest request, ScheduleService schedules, CancellationToken ct) =>
            {
                var (input, problem) = await ReadAsync(request, ct);
                if (problem is not null) return problem;
                return await Validated(async () =>
                {
                    var created = await schedules.CreateAsync(input!, ct);
                    return Results.Json(ScheduleView.From(created), ScheduleJsonContext.Default.ScheduleView,
                        statusCode: StatusCodes.Status201Created);
                });
            })
            .WithName("CreateSchedule").RequireRole(ApiKeyRole.Deploy).Accepts<ScheduleBody>("application/json")
            .Produces<ScheduleView>(StatusCodes.Status201Created).ProducesProblem(400);
        group.MapGet("", async (string? function, ScheduleService schedules, CancellationToken ct) =>
                Results.Json(new ScheduleList([.. (await schedules.ListAsync(function, ct)).Select(ScheduleView.From)]),
                    ScheduleJsonContext.Default.ScheduleList))
            .WithName("ListSchedules").Produces<ScheduleList>();
        group.MapGet("/{id}", async (string id, ScheduleService schedules, CancellationToken ct) =>
                await schedules.GetAsync(id, ct) is { } s
                    ? Results.Json(ScheduleView.From(s), ScheduleJsonContext.Default.ScheduleView)
                    : NotFound(id))
            .WithName("GetSchedule").Produces<ScheduleView>().ProducesProblem(404);
        group.MapPatch("/{id}", async (string id, HttpRequest request, ScheduleService schedules, CancellationToken ct) =>
            {
                var (input, problem) = await ReadAsync(request, ct);
                if (problem is not null) return problem;
                return await Validated(async () => await schedules.UpdateAsync(id, input!, ct) is { } s
                    ? Results.Json(ScheduleView.From(s), ScheduleJsonContext.Default.ScheduleView)
                    : NotFound(id));
            })
            .WithName("UpdateSchedule").RequireRole(ApiKeyRole.Deploy).Accepts<ScheduleBody>("application/json")
            .Produces<ScheduleView>().ProducesProblem(400).ProducesProblem(404);
        group.MapDelete("/{id}", async (string id, ScheduleService schedules, CancellationToken ct) =>
                await schedules.DeleteAsync(id, ct) ? Results.NoContent() : NotFound(id))
            .WithName("DeleteSchedule").RequireRole(ApiKeyRole.Deploy).Produces(StatusCodes.Status204NoContent).ProducesProblem(404);
    }

    private static IResult NotFound(string id) => ProblemResults.NotFound("Schedule not found", $"schedule '{id}' does not exist");

    private static async Task<IResult> Validated(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (ScheduleValidationException e)
        {
            var problem = ProblemExceptionHandler.Validation(e.Errors);
            problem.Title = "Invalid schedule";
            return Results.Problem(problem);
        }
    }

    private static async Task<(ScheduleInput? Input, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var body = await RequestBody.ReadAsync(request, MaxBodyBytes, ct);
        if (body is null) return (null, ProblemResults.TooLarge($"a schedule body may be at most {MaxBodyBytes / 1024} KB"));
        ScheduleBody? parsed;
        try
        {
            parsed = body.Length == 0 ? null : JsonSerializer.Deserialize(body, ScheduleJsonContext.Default.ScheduleBody);
        }
        catch (JsonException e)
        {
            return (null, ProblemResults.BadRequest("Malformed JSON", e.Message));
        }
        if (parsed is null) return (null, ProblemResults.BadRequest("Malformed JSON", "expected a JSON object"));
        return (new ScheduleInput(parsed.Function, parsed.Expression, parsed.Timezone, parsed.Payload, parsed.Enabled), null);
    }
}

/// <summary>POST / PATCH body.</summary>
internal sealed record ScheduleBody(string? Function, string? Expression, string? Timezone, JsonElement? Payload, bool? Enabled);

/// <param name="Payload">Written back as it was stored (checked JSON): re-serializing it as a JsonElement failed for
/// valid JSON such as a lone surrogate escape ("\ud800"), which made every later list of schedules fail.</param>
internal sealed record ScheduleView(
    string Id, string Function, string Expression, string Timezone, RawJson Payload, bool Enabled,
    DateTimeOffset? NextRunAt, DateTimeOffset? LastRunAt, string? LastExecutionId, string? LastError, DateTimeOffset CreatedAt)
{
    public static ScheduleView From(Schedule s) =>
        new(s.Id, s.Function, s.Expression, s.TimeZone ?? "UTC", RawJson.FromTrusted(Encoding.UTF8.GetBytes(s.Payload)), s.Enabled,
            s.NextRunAt, s.LastRunAt, s.LastExecutionId, s.LastError, s.CreatedAt);
}

internal sealed record ScheduleList(IReadOnlyList<ScheduleView> Schedules);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ScheduleBody))]
[JsonSerializable(typeof(ScheduleView))]
[JsonSerializable(typeof(ScheduleList))]
internal sealed partial class ScheduleJsonContext : JsonSerializerContext;
