using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

using Tern.Api.Auth;
using Tern.Api.Configuration;
using Tern.Api.Endpoints;
using Tern.Api.Lambda;
using Tern.Api.Metrics;
using Tern.Api.Problems;
using Tern.Api.Serialization;
using Tern.Api.Telemetry;
using Tern.Core.Settings;
using Tern.Drivers;
using Tern.Invocation;
using Tern.Invocation.Admission;
using Tern.Pools;
using Tern.Registry;
using Tern.Storage;
using Tern.Storage.Secrets;

namespace Tern.Api.Hosting;

/// <summary>Builds and runs the daemon: the store, the drivers, the invoker, and the HTTP API over them.</summary>
public static class DaemonHost
{
    /// <summary>How long a stop may take: workers are killed and queues flushed within it.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(DaemonStartup startup, CancellationToken ct)
    {
        InlineIo.PreferInlineSocketCompletions(); // before the first socket of this process
        if (await StoreWait.UntilReachableAsync(Options(startup), ConfigureLogging, ct) is { } waitedOn)
            startup.Flags.Set("daemon:listen", waitedOn, "the address the daemon answered on while it waited for its store");
        await using var app = Build(startup);
        await ApiKeyAuth.AnnounceBootstrapKeyAsync(app.Services, Console.Out, ct);
        await app.RunAsync(ct);
    }

    private static DaemonOptions Options(DaemonStartup startup)
    {
        var services = new ServiceCollection();
        AddLayers(services);
        return LoadConfiguration(services, startup).Get<DaemonOptions>(DaemonOptions.Section);
    }

    /// <summary>`tern daemon --print-config`: the settings as they would be, checked, with nothing started or created.</summary>
    public static void PrintConfig(DaemonStartup startup, TextWriter output)
    {
        var services = new ServiceCollection();
        AddLayers(services);
        ConfigPrinter.Print(LoadConfiguration(services, startup), output);
    }

    /// <summary>Builds the daemon with <paramref name="options"/> as its daemon settings (tests: a data dir, port 0);
    /// the other sections come from the environment and defaults as usual.</summary>
    public static WebApplication Build(DaemonOptions options, Action<IServiceCollection>? configure = null)
    {
        var flags = new ConfigLayer("code");
        foreach (var setting in Setting.Of(new SettingsSection(DaemonOptions.Section, typeof(DaemonOptions))))
            flags.Set(setting.Key, setting.Format(options), "given in code");
        return Build(new DaemonStartup(flags), configure);
    }

    /// <param name="configure">Lets tests replace services (for example the sandbox options).</param>
    public static WebApplication Build(DaemonStartup startup, Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        var services = builder.Services;
        AddLayers(services);
        var configuration = LoadConfiguration(services, startup);
        builder.Configuration.AddConfiguration(configuration.Root);
        var options = configuration.Get<DaemonOptions>(DaemonOptions.Section);

        Directory.CreateDirectory(options.DataDir);
        File.SetUnixFileMode(options.DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        services.AddSingleton(new StorageLocation(options.DataDir, options.Store));
        services.AddSingleton(new DriverStateRoot(Path.Combine(options.DataDir, "w")));

        // Measured: with the default minimum the pool's slow thread injection stalled bursts of store writes and
        // agent replies for up to 800 ms on two cores; starting with more threads removes the stall. (Idle pool
        // threads cost nothing: they do not spin, see Tern.Cli.csproj.)
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), io);

        builder.WebHost.UseUrls(options.ListenUrl);
        InlineIo.UseInlineScheduling(builder.WebHost);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 128L * 1024 * 1024);
        // A stop always completes: whatever is stuck is abandoned after this, and the process exits.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        ConfigureLogging(builder.Logging);

        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(LimitJsonContext.Default));
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(SecretJsonContext.Default));
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(ScheduleJsonContext.Default));
        services.AddVersionJson();
        services.AddSnapshotJson();
        services.AddLambdaApi();
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddOpenApi(o => o.AddSchemaTransformer<Endpoints.NetworkSchemaTransformer>());
        services.AddTernMetrics();
        services.AddRequestLog(options.DataDir);
        services.AddApiKeyAuth(options);
        services.AddTernOtlpExport(options);
        configure?.Invoke(services);

        var app = builder.Build();
        // Open (and migrate) the database and the secret store now: a database from a newer Tern or a wrong master key
        // stops the start here, with one line, rather than at the first call.
        app.Services.GetRequiredService<ISecretStore>();
        app.Services.StartTernOtlpExport();
        app.UseThreadPoolForColdRoutes(); // before anything that might block (see InlineIo)
        app.UseRequestLog(); // logs the status the client got
        app.UseExceptionHandler();
        // Bodiless error statuses (an unknown route, 405) become problems, whatever the client accepts. Calls always write
        // their own body, so they skip this middleware and its per-request feature objects.
        app.UseWhen(context => !InlineIo.IsCall(context.Request), branch => branch.UseStatusCodePages(page =>
            ProblemResults.WriteAsync(page.HttpContext, new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = page.HttpContext.Response.StatusCode })));
        app.UseApiKeyAuth(); // every route below but /healthz needs a key when auth is on
        app.MapOpenApiDocument();
        app.MapHealthEndpoints();
        app.MapFunctionEndpoints();
        app.MapInvokeEndpoints();
        app.MapExecutionEndpoints();
        app.MapInternalEndpoints();
        app.MapLimitEndpoints();
        app.MapMetricsEndpoints();
        app.MapSecretEndpoints();
        app.MapScheduleEndpoints();
        app.MapVersionEndpoints();
        app.MapSnapshotEndpoints();
        app.MapLogEndpoints();
        app.MapLambdaApi();
        return app;
    }

    /// <summary>Each layer registers its own services and settings sections; the host only lists the layers.</summary>
    private static void AddLayers(IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddTernSettings<DaemonOptions>(DaemonOptions.Section);
        services.AddTernStorage();
        services.AddTernDrivers();
        services.AddTernPools();
        services.AddTernInvocation();
        services.AddTernRegistry();
    }

    /// <summary>Every settings section the layers register.</summary>
    public static IReadOnlyList<SettingsSection> SettingsSections()
    {
        var services = new ServiceCollection();
        AddLayers(services);
        return SectionsIn(services);
    }

    private static List<SettingsSection> SectionsIn(IServiceCollection services) =>
        [.. services.Where(d => d.ServiceType == typeof(SettingsSection)).Select(d => (SettingsSection)d.ImplementationInstance!)];

    private static DaemonConfiguration LoadConfiguration(IServiceCollection services, DaemonStartup startup) =>
        DaemonConfiguration.Load(SectionsIn(services), startup.Flags, startup.ConfigFile, Environment.GetEnvironmentVariables());

    /// <summary>One JSON object per line when not on a terminal (log shippers), readable text when on one.</summary>
    internal static void ConfigureLogging(ILoggingBuilder logging)
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
