using System.ComponentModel.DataAnnotations;
using Tern.Api.Auth;
using Tern.Core.Settings;
using Tern.Storage.Postgres;

namespace Tern.Api.Hosting;

/// <summary>The daemon's own settings (section "daemon"). Values come from the configuration pipeline
/// (<see cref="Configuration.DaemonConfiguration"/>): flags, then TERN_* variables, then the config file, then these defaults.</summary>
public sealed class DaemonOptions : IValidatableObject
{
    public const string Section = "daemon";
    public const string DefaultListen = "127.0.0.1:8080";

    [Setting("host:port or a URL to listen on; port 0 picks a free port", Environment = "TERN_LISTEN")]
    [Required]
    public string Listen { get; set; } = DefaultListen;

    [Setting("Where functions, code, records and keys are kept (made 0700)", Environment = "TERN_DATA_DIR")]
    [Required]
    public string DataDir { get; set; } = DefaultDataDir();

    [Setting("Where state is kept: sqlite (tern.db in the data directory) or a Postgres connection string " +
        "(postgres://user:password@host:5432/db or Host=...;Database=...), which several daemons may share", Environment = "TERN_STORE")]
    [Required]
    public string Store { get; set; } = PostgresConnectionString.Sqlite;

    [Setting("Require API keys: on, off, or auto (on unless listening only on loopback)", Environment = "TERN_AUTH")]
    public AuthMode Auth { get; set; } = AuthMode.Auto;

    [Setting("Where to send traces and metrics over OTLP (base URL, e.g. http://collector:4318); empty: no export",
        Environment = "TERN_OTLP_ENDPOINT,OTEL_EXPORTER_OTLP_ENDPOINT")]
    public string? OtlpEndpoint { get; set; }

    [Setting("OTLP metric export interval and span batch delay; empty keeps the SDK's defaults (OTEL_METRIC_EXPORT_INTERVAL, OTEL_BSP_SCHEDULE_DELAY)")]
    public TimeSpan? OtlpExportInterval { get; set; }

    public static string DefaultDataDir()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".local", "share") : xdg, "tern");
    }

    /// <summary>Checks what attributes cannot say; empty OtlpEndpoint means no export.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(OtlpEndpoint)
            && !(Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            yield return new ValidationResult("must be an http:// or https:// URL", [nameof(OtlpEndpoint)]);
        if (PostgresConnectionString.IsPostgres(Store) && StoreProblem() is { } problem)
            yield return new ValidationResult(problem, [nameof(Store)]);
        if (!Uri.TryCreate(ListenUrl, UriKind.Absolute, out _))
            yield return new ValidationResult("must be host:port or a URL", [nameof(Listen)]);
    }

    private string? StoreProblem()
    {
        try
        {
            PostgresConnectionString.ToNpgsql(Store);
            return null;
        }
        catch (StoreConnectionStringException e)
        {
            return e.Message;
        }
    }

    /// <summary>The URL Kestrel binds: "127.0.0.1:8080" becomes "http://127.0.0.1:8080".</summary>
    public string ListenUrl => Listen.Contains("://", StringComparison.Ordinal) ? Listen : "http://" + Listen;
}
