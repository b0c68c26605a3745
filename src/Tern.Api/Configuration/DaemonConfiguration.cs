using System.Collections;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Tern.Core.Settings;

namespace Tern.Api.Configuration;

/// <summary>The daemon's settings from every place they can come from, highest first: command-line flags, TERN_*
/// environment variables, the config file (`--config`, or env TERN_CONFIG), then each options class's defaults.
/// Everything is checked when loaded, so a bad value stops the daemon before it starts, with one line naming the
/// setting, the value and where it came from.</summary>
public sealed class DaemonConfiguration
{
    public const string ConfigFileVariable = "TERN_CONFIG";

    private readonly IReadOnlyList<ConfigLayer> _layers; // highest first

    private DaemonConfiguration(IReadOnlyList<SettingsSection> sections, IReadOnlyList<ConfigLayer> layers)
    {
        _layers = layers;
        Settings = [.. sections.SelectMany(Setting.Of)];
        var builder = new ConfigurationBuilder();
        foreach (var layer in layers.Reverse())
            builder.AddInMemoryCollection(layer.Values.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Value)));
        Root = builder.Build();
        Sections = sections;
    }

    public IConfigurationRoot Root { get; }
    public IReadOnlyList<SettingsSection> Sections { get; }
    public IReadOnlyList<Setting> Settings { get; }

    /// <param name="flags">Settings given on the command line, keyed "section:property" (e.g. daemon:listen), with the
    /// flag's name as the value's origin.</param>
    public static DaemonConfiguration Load(IReadOnlyList<SettingsSection> sections, ConfigLayer flags, string? configFile, IDictionary environment)
    {
        var layers = new List<ConfigLayer> { flags, FromEnvironment(sections, environment) };
        configFile ??= environment[ConfigFileVariable] as string is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        if (configFile is not null) layers.Add(ConfigFile.Read(configFile));
        var configuration = new DaemonConfiguration(sections, layers);
        configuration.Validate();
        return configuration;
    }

    /// <summary>The options of one section as bound (after validation this cannot fail).</summary>
    public T Get<T>(string section) where T : class, new() => (T)Bind(new SettingsSection(section, typeof(T)));

    /// <summary>Where a setting's value comes from: a flag, an environment variable, a file, or "default".</summary>
    public string SourceOf(Setting setting) =>
        _layers.FirstOrDefault(l => l.Covers(setting.Key))?.OriginOf(setting.Key) ?? "default";

    /// <summary>Every setting with its effective value, for `tern daemon --print-config`.</summary>
    public IEnumerable<(Setting Setting, string Value, string Source)> Effective()
    {
        foreach (var group in Settings.GroupBy(s => s.Section))
        {
            var options = Bind(group.Key);
            foreach (var setting in group) yield return (setting, setting.Display(options), SourceOf(setting));
        }
    }

    private static ConfigLayer FromEnvironment(IReadOnlyList<SettingsSection> sections, IDictionary environment)
    {
        var layer = new ConfigLayer("environment");
        foreach (var setting in sections.SelectMany(Setting.Of))
        {
            var name = setting.EnvironmentVariables.FirstOrDefault(n => environment[n] is string { Length: > 0 });
            if (name is null) continue;
            var value = (string)environment[name]!;
            if (!setting.IsList) { layer.Set(setting.Key, value, "env " + name); continue; }
            var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (var i = 0; i < items.Length; i++) layer.Set($"{setting.Key}:{i}", items[i], "env " + name);
        }
        return layer;
    }

    private void Validate()
    {
        foreach (var layer in _layers)
            foreach (var (key, (_, origin)) in layer.Values)
                if (!Settings.Any(s => Matches(s, key)))
                    throw new DaemonConfigurationException(
                        $"unknown setting '{key.Replace(':', '.')}' ({origin}); `tern daemon --print-config` lists them all");

        foreach (var setting in Settings)
        {
            var section = Root.GetSection(setting.Section.Name);
            if (setting.IsList || section[setting.Property.Name] is not { } raw) continue;
            try { section.GetValue(setting.Property.PropertyType, setting.Property.Name); }
            catch (InvalidOperationException)
            {
                throw new DaemonConfigurationException($"{setting.DisplayKey} = '{Setting.MaskPasswords(raw)}' ({SourceOf(setting)}): expected {setting.Expected()}");
            }
        }

        foreach (var section in Sections)
        {
            var options = Bind(section);
            var results = new List<ValidationResult>();
            if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)) continue;
            var failed = results[0];
            var setting = Settings.FirstOrDefault(s => s.Section == section && failed.MemberNames.Contains(s.Property.Name));
            if (setting is null) throw new DaemonConfigurationException($"{section.Name}: {failed.ErrorMessage}");
            // "The field X must be between 0 and 64." reads better as "must be between 0 and 64."
            var reason = failed.ErrorMessage?.Replace($"The field {setting.Property.Name} ", "", StringComparison.Ordinal) ?? "invalid";
            throw new DaemonConfigurationException($"{setting.DisplayKey} = '{setting.Display(options)}' ({SourceOf(setting)}): {reason}");
        }
    }

    private object Bind(SettingsSection section)
    {
        var options = Activator.CreateInstance(section.OptionsType)!;
        Root.GetSection(section.Name).Bind(options);
        return options;
    }

    /// <summary>A key names this setting, or (for a list) one of its items.</summary>
    private static bool Matches(Setting setting, string key) =>
        setting.IsList ? ConfigLayer.IsAtOrUnder(key, setting.Key) : key.Equals(setting.Key, StringComparison.OrdinalIgnoreCase);
}
