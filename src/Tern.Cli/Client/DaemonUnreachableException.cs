namespace Tern.Cli.Client;

/// <summary>No daemon answered at the server URL (refused, unresolvable host...).</summary>
internal sealed class DaemonUnreachableException(string serverUrl, Exception inner)
    : Exception($"cannot reach the Tern daemon at {serverUrl} (start it with: tern daemon)", inner)
{
    public string ServerUrl { get; } = serverUrl;
}
