using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Auth;
using Tern.Api.Problems;
using Tern.Core.Code;
using Tern.Drivers;
using Tern.Registry;
using Tern.Storage.ApiKeys;

namespace Tern.Api.Endpoints;

/// <summary>/v1/functions/{name}/snapshots: the saved VM states later cold starts restore from (isolation microvm only):
/// list, make one now (boots the function's VM and saves it) and delete. Which driver has snapshots is not named here:
/// any registered <see cref="IWorkerSnapshots"/> serves the functions of its isolation.</summary>
internal static class SnapshotEndpoints
{
    public static IServiceCollection AddSnapshotJson(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(SnapshotJsonContext.Default));
        return services;
    }

    public static void MapSnapshotEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/functions/{name}/snapshots").WithTags("Snapshots");
        group.MapGet("", async (string name, FunctionRegistry registry, IEnumerable<IWorkerSnapshots> stores, CancellationToken ct) =>
            {
                var f = await registry.GetAsync(name, ct);
                var store = stores.FirstOrDefault(s => s.Isolation == f.Isolation);
                return Results.Json(new SnapshotList(store?.List(f.Name) ?? []), SnapshotJsonContext.Default.SnapshotList);
            })
            .WithName("ListSnapshots").Produces<SnapshotList>().ProducesProblem(404);
        group.MapPost("", async (string name, FunctionRegistry registry, IEnumerable<IWorkerSnapshots> stores, CancellationToken ct) =>
            {
                var f = await registry.GetAsync(name, ct);
                if (stores.FirstOrDefault(s => s.Isolation == f.Isolation) is not { } store)
                    return ProblemResults.BadRequest("No snapshots for this isolation",
                        $"function '{f.Name}' runs with isolation '{f.Isolation}', which has no snapshots (isolation microvm has)");
                var info = await store.CreateAsync(new WorkerSpec
                {
                    WorkerId = "s" + Guid.CreateVersion7().ToString("N"), FunctionName = f.Name, Runtime = f.Runtime,
                    Code = new CodeRef(f.CodeHash, f.CodeFileName), Limits = new WorkerLimits(f.MemoryMb, f.Vcpus),
                }, ct);
                return Results.Json(info, SnapshotJsonContext.Default.WorkerSnapshotInfo, statusCode: StatusCodes.Status201Created);
            })
            .WithName("CreateSnapshot").RequireRole(ApiKeyRole.Deploy)
            .Produces<WorkerSnapshotInfo>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(404).ProducesProblem(503);
        group.MapDelete("", async (string name, FunctionRegistry registry, IEnumerable<IWorkerSnapshots> stores, CancellationToken ct) =>
            {
                var f = await registry.GetAsync(name, ct);
                var deleted = stores.FirstOrDefault(s => s.Isolation == f.Isolation)?.Delete(f.Name) ?? 0;
                return Results.Json(new SnapshotsDeleted(deleted), SnapshotJsonContext.Default.SnapshotsDeleted);
            })
            .WithName("DeleteSnapshots").RequireRole(ApiKeyRole.Deploy).Produces<SnapshotsDeleted>().ProducesProblem(404);
    }
}

public sealed record SnapshotList(IReadOnlyList<WorkerSnapshotInfo> Snapshots);
public sealed record SnapshotsDeleted(int Deleted);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SnapshotList))]
[JsonSerializable(typeof(SnapshotsDeleted))]
[JsonSerializable(typeof(WorkerSnapshotInfo))]
internal sealed partial class SnapshotJsonContext : JsonSerializerContext;
