using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tern.Core.Functions;
using Tern.Core.Settings;
using Tern.Invocation.Admission;
using Tern.Invocation.Async;
using Tern.Invocation.Callbacks;
using Tern.Invocation.Logs;
using Tern.Invocation.Recovery;
using Tern.Invocation.Scheduling;
using Tern.Storage;
using Tern.Storage.Schedules;

namespace Tern.Invocation;

/// <summary>Registers everything a call goes through after the HTTP layer: admission (rate limits, idempotency), the
/// invoker, async queues and retries, callbacks, schedules, execution logs and recovery after a crash.
/// Settings: sections "admission", "async" and "callbacks".</summary>
public static class InvocationServices
{
    public static IServiceCollection AddTernInvocation(this IServiceCollection services)
    {
        services.AddTernSettings<AdmissionOptions>(AdmissionOptions.Section);
        services.AddTernSettings<AsyncOptions>(AsyncOptions.Section);
        services.AddTernSettings<CallbackOptions>(CallbackOptions.Section);

        services.AddSingleton<RateLimits>();
        services.AddSingleton<IFunctionObserver>(sp => sp.GetRequiredService<RateLimits>());
        services.AddSingleton<Idempotency>();
        services.AddSingleton<VersionResolver>();
        services.AddSingleton<FunctionInvoker>();
        // The facades are built here: their constructors are internal (invoker, dispatcher and scheduler are the layer's own).
        services.AddSingleton(sp => new InvocationService(
            sp.GetRequiredService<IFunctionStore>(), sp.GetRequiredService<IExecutionStore>(), sp.GetRequiredService<FunctionInvoker>(),
            sp.GetRequiredService<AsyncDispatcher>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<RateLimits>(),
            sp.GetRequiredService<Idempotency>(), sp.GetRequiredService<VersionResolver>()));
        services.AddHostedService<InterruptedSyncCalls>();

        services.AddSingleton<CallbackTargets>();
        services.AddSingleton<CallbackSender>();
        services.AddHostedService(sp => sp.GetRequiredService<CallbackSender>());
        // Alone on its store (SQLite) the daemon runs what it accepts; sharing one (Postgres: leases) it runs what it claims.
        services.AddSingleton<IAsyncWorkSource>(sp => sp.GetRequiredService<IExecutionStore>() is IExecutionLeases leases
            ? ActivatorUtilities.CreateInstance<LeasedWorkSource>(sp, leases)
            : new LocalWorkSource(sp.GetRequiredService<IExecutionStore>(), sp.GetRequiredService<ILogger<AsyncDispatcher>>()));
        services.AddSingleton<AsyncDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<AsyncDispatcher>());
        services.AddHostedService<ExecutionJanitor>();

        services.AddSingleton<SchedulerService>();
        services.AddHostedService(sp => sp.GetRequiredService<SchedulerService>());
        services.AddSingleton(sp => new ScheduleService(
            sp.GetRequiredService<IScheduleStore>(), sp.GetRequiredService<IFunctionStore>(), sp.GetRequiredService<SchedulerService>(),
            sp.GetRequiredService<TimeProvider>()));

        services.AddSingleton<ExecutionLogs>();
        services.AddHostedService(sp => sp.GetRequiredService<ExecutionLogs>());
        return services;
    }
}
