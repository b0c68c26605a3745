using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tern.Api.Auth;
using Tern.Api.Endpoints;
using Tern.Api.Metrics;
using Tern.Api.Problems;
using Tern.Api.Serialization;
using Tern.Api.Telemetry;
using Tern.Drivers;
using Tern.Drivers.Sandbox;
using Tern.Invocation;
using Tern.Invocation.Admission;
using Tern.Invocation.Async;
using Tern.Invocation.Callbacks;
using Tern.Registry;
using Tern.Storage;
using Tern.Core.Functions;
using Tern.Pools;
using Tern.Storage.Caching;
using Tern.Storage.Code;
using Tern.Storage.Sqlite;

namespace Tern.Api.Hosting;

/// <summary>Builds and runs the daemon: the store, the drivers, the invoker, and the HTTP API over them.</summary>
public static class DaemonHost
{
    /// <summary>How long a stop may take: workers are killed and queues flushed within it.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(DaemonOptions options, CancellationToken ct)
    {
        InlineIo.PreferInlineSocketCompletions(); // before the first socket of this process
        await using var app = Build(options);
        await ApiKeyAuth.AnnounceBootstrapKeyAsync(app.Services, Console.Out, ct);
        await app.RunAsync(ct);
    }

    /// <param name="configure">Lets tests replace services (for example the sandbox options).</param>
    public static WebApplication Build(DaemonOptions options, Action<IServiceCollection>? configure = null)
    {
        Directory.CreateDirectory(options.DataDir);
        File.SetUnixFileMode(options.DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // Measured: with the default minimum the pool's slow thread injection stalled bursts of store writes and
        // agent replies for up to 800 ms on two cores; starting with more threads removes the stall. (Idle pool
        // threads cost nothing: they do not spin, see Tern.Cli.csproj.)
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), io);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls(options.ListenUrl);
        InlineIo.UseInlineScheduling(builder.WebHost);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 128L * 1024 * 1024);
        // A stop always completes: whatever is stuck is abandoned after this, and the process exits.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        ConfigureLogging(builder.Logging);

        var services = builder.Services;
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddOpenApi();

        services.AddSingleton(TimeProvider.System);
        var database = new SqliteDatabase(Path.Combine(options.DataDir, "tern.db"));
        services.AddSingleton(database);
        services.AddSingleton<IFunctionStore>(sp => new CachingFunctionStore(new SqliteFunctionStore(sp.GetRequiredService<SqliteDatabase>())));
        services.AddSingleton<ICodeStore>(new FileCodeStore(Path.Combine(options.DataDir, "code")));
        services.Configure<SandboxOptions>(s =>
            s.StateDir = options.WorkerStateDir ?? Path.Combine(options.DataDir, "w"));
        services.AddSandboxDriver();
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store");
        services.AddSingleton<DriverRegistry>();
        services.AddSingleton<FunctionRegistry>();
        services.AddSingleton<WorkerTemplates>();
        services.AddSingleton<PoolManager>();
        services.AddSingleton<IFunctionObserver>(sp => sp.GetRequiredService<PoolManager>());
        services.AddHostedService<PoolMaintenanceService>();
        services.AddSingleton<FunctionInvoker>();
        services.AddSingleton<IExecutionStore, SqliteExecutionStore>();
        services.AddHostedService<Tern.Invocation.Recovery.InterruptedSyncCalls>();
        services.AddOptions<CallbackOptions>();
        services.AddSingleton<CallbackTargets>();
        services.AddSingleton<CallbackSender>();
        services.AddHostedService(sp => sp.GetRequiredService<CallbackSender>());
        services.AddSingleton<AsyncDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<AsyncDispatcher>());
        services.AddHostedService<ExecutionJanitor>();
        services.AddSingleton<RateLimits>();
        services.AddSingleton<IFunctionObserver>(sp => sp.GetRequiredService<RateLimits>());
        services.AddSingleton<Idempotency>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(LimitJsonContext.Default));
        services.AddSingleton<InvocationService>();
        services.AddTernMetrics();
        services.AddTernSecrets(options.DataDir, database);
        services.AddTernSchedules();
        services.AddTernVersions();
        services.AddTernLogs(options.DataDir);
        services.AddApiKeyAuth(options);
        services.AddTernOtlpExport(options);
        configure?.Invoke(services);

        var app = builder.Build();
        app.Services.StartTernOtlpExport();
        app.UseThreadPoolForColdRoutes(); // before anything that might block (see InlineIo)
        app.UseRequestLog(); // logs the status the client got
        app.UseExceptionHandler();
        // Bodiless error statuses (an unknown route, 405) become problems, whatever the client accepts. Calls always write
        // their own body, so they skip this middleware and its per-request feature objects.
        app.UseWhen(context => !InlineIo.IsCall(context.Request), branch => branch.UseStatusCodePages(page =>
            Problems.Problems.WriteAsync(page.HttpContext, new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = page.HttpContext.Response.StatusCode })));
        app.UseApiKeyAuth(); // every route below but /healthz needs a key when auth is on
        app.MapOpenApiDocument();
        app.MapHealthEndpoints();
        app.MapFunctionEndpoints();
        app.MapInvokeEndpoints();
        app.MapExecutionEndpoints();
        app.MapLimitEndpoints();
        app.MapMetricsEndpoints();
        app.MapSecretEndpoints();
        app.MapScheduleEndpoints();
        app.MapVersionEndpoints();
        app.MapLogEndpoints();
        return app;
    }

    /// <summary>One JSON object per line when not on a terminal (log shippers), readable text when on one.</summary>
    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        if (Console.IsOutputRedirected) logging.AddJsonConsole();
        else logging.AddSimpleConsole(o => o.SingleLine = true);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Hosting's per-request log lines (start/finish) are off: with this category enabled at all, ASP.NET Core makes an
        // Activity and a log scope for every request (measured: ~8% of a warm call's allocations). Our request log and
        // OTLP tracing (which asks for those activities itself) cover what it said.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
    }
}
