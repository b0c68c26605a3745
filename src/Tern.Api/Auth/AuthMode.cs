using System.Net;

namespace Tern.Api.Auth;

/// <summary>Whether API keys are required (`--auth`, env TERN_AUTH). Auto: on unless the daemon listens only on
/// loopback (127.0.0.0/8, ::1, localhost).</summary>
public enum AuthMode
{
    Auto,
    On,
    Off,
}

public static class AuthModes
{
    public const string Variable = "TERN_AUTH";

    /// <summary>"on", "off" or "auto" (any case); null or empty is Auto.</summary>
    public static AuthMode Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => AuthMode.Auto,
        "on" => AuthMode.On,
        "off" => AuthMode.Off,
        _ => throw new ArgumentException($"auth must be on, off or auto, not '{value}'"),
    };

    public static bool IsEnabled(AuthMode mode, string listenUrl) => mode switch
    {
        AuthMode.On => true,
        AuthMode.Off => false,
        _ => !IsLoopback(listenUrl),
    };

    /// <summary>True only for an address that is certainly loopback; wildcards (*, +, 0.0.0.0, ::) and names other
    /// than localhost are not.</summary>
    public static bool IsLoopback(string listenUrl)
    {
        if (!Uri.TryCreate(listenUrl, UriKind.Absolute, out var uri)) return false;
        var host = uri.Host.Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }
}
