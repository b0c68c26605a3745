using Tern.Api.Problems;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tern.Core.Functions;
using Tern.Invocation.Admission;

namespace Tern.Api.Endpoints;

/// <summary>GET and PUT /v1/limits: the global rate limit, read and changed without a restart. (A function's own
/// limit is its rateLimitPerSecond field, changed with PATCH /v1/functions/{name}.)</summary>
internal static class LimitEndpoints
{
    private const long MaxBodyBytes = 64 * 1024;

    public static void MapLimitEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/limits").WithTags("Limits");
        group.MapGet("", (RateLimits limits) => Results.Json(new LimitSettings(limits.GlobalPerSecond), LimitJsonContext.Default.LimitSettings))
            .WithName("GetLimits").Produces<LimitSettings>();
        group.MapPut("", PutAsync).WithName("SetLimits")
            .Accepts<LimitSettings>("application/json").Produces<LimitSettings>().ProducesProblem(400);
    }

    private static async Task<IResult> PutAsync(HttpRequest request, RateLimits limits, CancellationToken ct)
    {
        var body = await RequestBody.ReadAsync(request, MaxBodyBytes, ct);
        if (body is null) return ProblemResults.TooLarge($"the limits may be at most {MaxBodyBytes} bytes");
        LimitSettings settings;
        try
        {
            settings = RequestBody.ParseJson(body, LimitJsonContext.Default.LimitSettings);
        }
        catch (JsonException e)
        {
            return ProblemResults.BadRequest("Malformed limits", $"expected {{\"globalPerSecond\": N}}: {e.Message}");
        }
        if (settings.GlobalPerSecond is not int rate || !RateLimits.IsValidRate(rate))
            return ProblemResults.BadRequest("Invalid limits",
                $"globalPerSecond must be a whole number from 0 (unlimited) to {FunctionLimits.MaxRateLimitPerSecond}");
        limits.SetGlobal(rate);
        return Results.Json(new LimitSettings(limits.GlobalPerSecond), LimitJsonContext.Default.LimitSettings);
    }
}

/// <param name="GlobalPerSecond">Calls per second admitted across all functions; 0 = unlimited.</param>
internal sealed record LimitSettings(int? GlobalPerSecond);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(LimitSettings))]
internal sealed partial class LimitJsonContext : JsonSerializerContext;
