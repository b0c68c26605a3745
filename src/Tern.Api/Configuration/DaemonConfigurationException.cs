namespace Tern.Api.Configuration;

/// <summary>A setting the daemon cannot start with; the message is one line naming the setting and where it came from.</summary>
public sealed class DaemonConfigurationException(string message) : Exception(message);
