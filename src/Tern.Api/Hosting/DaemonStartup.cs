using Tern.Api.Configuration;

namespace Tern.Api.Hosting;

/// <summary>What `tern daemon` was started with: settings given as flags (keyed "section:property") and the config
/// file, if any. Everything else comes from the environment and the defaults (<see cref="DaemonConfiguration"/>).</summary>
public sealed record DaemonStartup(ConfigLayer Flags, string? ConfigFile = null)
{
    public static DaemonStartup Defaults => new(new ConfigLayer("flags"));
}
