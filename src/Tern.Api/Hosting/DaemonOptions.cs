namespace Tern.Api.Hosting;

/// <summary>What `tern daemon` is started with. Flags win over TERN_* variables, which win over defaults.</summary>
public sealed class DaemonOptions
{
    public const string DefaultListen = "127.0.0.1:8080";

    /// <summary>host:port, or a full URL. Port 0 picks a free port (tests).</summary>
    public string Listen { get; set; } = Environment.GetEnvironmentVariable("TERN_LISTEN") ?? DefaultListen;

    public string DataDir { get; set; } = Environment.GetEnvironmentVariable("TERN_DATA_DIR") ?? DefaultDataDir();

    /// <summary>API keys required (On), not (Off), or On unless listening on loopback (Auto). Env TERN_AUTH.</summary>
    public Tern.Api.Auth.AuthMode Auth { get; set; } = Tern.Api.Auth.AuthModes.Parse(Environment.GetEnvironmentVariable(Tern.Api.Auth.AuthModes.Variable));

    /// <summary>Overrides where workers' sockets and code slots live (default: {DataDir}/w, inside the data dir's 0700).</summary>
    public string? WorkerStateDir { get; set; }

    /// <summary>Where to send traces and metrics over OTLP (base URL, e.g. http://collector:4318); null means no export.
    /// Env TERN_OTLP_ENDPOINT, else the standard OTEL_EXPORTER_OTLP_ENDPOINT.</summary>
    public string? OtlpEndpoint { get; set; } = NonEmpty(Environment.GetEnvironmentVariable("TERN_OTLP_ENDPOINT"))
        ?? NonEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));

    /// <summary>Overrides the metric export interval and the span batch delay (tests); null keeps the SDK's defaults
    /// and its OTEL_METRIC_EXPORT_INTERVAL / OTEL_BSP_SCHEDULE_DELAY variables.</summary>
    public TimeSpan? OtlpExportInterval { get; set; }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    public static string DefaultDataDir()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".local", "share") : xdg, "tern");
    }

    /// <summary>The URL Kestrel binds: "127.0.0.1:8080" becomes "http://127.0.0.1:8080".</summary>
    public string ListenUrl => Listen.Contains("://", StringComparison.Ordinal) ? Listen : "http://" + Listen;
}
