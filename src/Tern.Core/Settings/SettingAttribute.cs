namespace Tern.Core.Settings;

/// <summary>Marks a property of an options class as a daemon setting: what it is for (shown by
/// `tern daemon --print-config` and listed in the README) and, when it is not the derived
/// TERN_{SECTION}_{PROPERTY} name, the environment variable(s) that set it.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SettingAttribute(string description) : Attribute
{
    public string Description { get; } = description;

    /// <summary>Environment variables that set this setting, most important first (comma-separated); null derives
    /// TERN_{SECTION}_{PROPERTY}, e.g. pools.idleTtl from TERN_POOLS_IDLE_TTL.</summary>
    public string? Environment { get; init; }
}
