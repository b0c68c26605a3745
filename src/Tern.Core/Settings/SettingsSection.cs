namespace Tern.Core.Settings;

/// <summary>One section of the daemon's configuration ("pools", "sandbox", ...) and the options class it binds to.
/// Each layer registers its own (see <see cref="SettingsRegistration"/>), so the configuration pipeline knows every
/// setting without the host naming the layers' types.</summary>
public sealed record SettingsSection(string Name, Type OptionsType);
