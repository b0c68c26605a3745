using Microsoft.Extensions.DependencyInjection;
using Tern.Invocation.Scheduling;
using Tern.Storage.Schedules;
using Tern.Storage.Sqlite;

namespace Tern.Api.Hosting;

/// <summary>Registers schedules: the SQLite store, the scheduler loop (a hosted service) and the CRUD service.</summary>
internal static class ScheduleServices
{
    public static IServiceCollection AddTernSchedules(this IServiceCollection services)
    {
        services.AddSingleton<IScheduleStore>(sp => new SqliteScheduleStore(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<SchedulerService>();
        services.AddHostedService(sp => sp.GetRequiredService<SchedulerService>());
        services.AddSingleton<ScheduleService>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(Endpoints.ScheduleJsonContext.Default));
        return services;
    }
}
