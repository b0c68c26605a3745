using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tern.Api.Serialization;
using Tern.Storage.Postgres;

namespace Tern.Api.Hosting;

/// <summary>A Postgres store that does not answer at start: rather than exit (and be restarted in a loop by a service
/// manager), the daemon logs one line, answers /healthz/live with 200 and /healthz/ready with 503 naming the store, and
/// tries again every few seconds, quietly; once the store answers it starts as usual on the same address (with port 0,
/// the port the waiting server was given, so whoever found the daemon there still finds it).</summary>
internal static partial class StoreWait
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(2);

    /// <returns>The address the waiting server listened on when it was asked for port 0, for the daemon to listen on;
    /// otherwise null.</returns>
    public static async Task<string?> UntilReachableAsync(DaemonOptions options, Action<ILoggingBuilder> configureLogging, CancellationToken ct)
    {
        if (!PostgresConnectionString.IsPostgres(options.Store)) return null;
        var problem = PostgresProbe.Problem(options.Store);
        if (problem is null) return null;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls(options.ListenUrl);
        configureLogging(builder.Logging);
        await using var app = builder.Build();
        var current = problem;
        app.MapGet("/healthz/live", () => Results.Json(new HealthReport("live"), ApiJsonContext.Default.HealthReport));
        // Readiness, and every other route meanwhile: 503 naming the store.
        app.MapFallback(() => Results.Json(new HealthReport("not ready", new Dictionary<string, string> { ["store"] = current }),
            ApiJsonContext.Default.HealthReport, statusCode: StatusCodes.Status503ServiceUnavailable));
        await app.StartAsync(ct);
        var bound = new Uri(options.ListenUrl).Port == 0 ? app.Urls.FirstOrDefault() : null;
        LogWaiting(app.Logger, problem);
        try
        {
            while ((current = PostgresProbe.Problem(options.Store) ?? "") is { Length: > 0 })
                await Task.Delay(RetryEvery, ct);
            LogReachable(app.Logger);
            return bound;
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    [LoggerMessage(EventId = 610, Level = LogLevel.Error,
        Message = "{Problem}; readiness is 503 and the daemon starts once it answers (checked every 2 s)")]
    private static partial void LogWaiting(ILogger logger, string problem);

    [LoggerMessage(EventId = 611, Level = LogLevel.Information, Message = "the Postgres store answers now; starting")]
    private static partial void LogReachable(ILogger logger);
}
