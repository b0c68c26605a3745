using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Tern.Core.Settings;

namespace Tern.Api.Configuration;

/// <summary>One setting: a public read-write property of a registered options class. Its key is "section:property"
/// in camelCase (pools:idleTtl, written pools.idleTtl to users), its environment variables come from its
/// <see cref="SettingAttribute"/> or are derived (TERN_POOLS_IDLE_TTL).</summary>
public sealed class Setting
{
    private Setting(SettingsSection section, PropertyInfo property)
    {
        Section = section;
        Property = property;
        var attribute = property.GetCustomAttribute<SettingAttribute>();
        Description = attribute?.Description ?? "";
        Key = $"{section.Name}:{char.ToLowerInvariant(property.Name[0])}{property.Name[1..]}";
        EnvironmentVariables = attribute?.Environment is { } names
            ? names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [$"TERN_{Snake(section.Name)}_{Snake(property.Name)}"];
    }

    public SettingsSection Section { get; }
    public PropertyInfo Property { get; }
    public string Key { get; }
    public string DisplayKey => Key.Replace(':', '.');
    public string Description { get; }
    public IReadOnlyList<string> EnvironmentVariables { get; }
    public bool IsList => Property.PropertyType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(Property.PropertyType);

    public static IEnumerable<Setting> Of(SettingsSection section) => section.OptionsType
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.CanWrite && p.SetMethod!.IsPublic)
        .Select(p => new Setting(section, p));

    /// <summary>The value as a user would write it: durations as d.hh:mm:ss, lists comma-separated.</summary>
    public string Format(object options) => Property.GetValue(options) switch
    {
        null => "",
        string text => text,
        TimeSpan span => span.ToString("c"),
        Enum choice => choice.ToString().ToLowerInvariant(),
        IEnumerable list => string.Join(",", list.Cast<object>()),
        var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>The value as <see cref="Format"/> gives it, with a password in a URL (user:password@) or in a connection
    /// string (Password=...) replaced by ***: for printing (--print-config, error messages), never for binding.</summary>
    public string Display(object options) => MaskPasswords(Format(options));

    public static string MaskPasswords(string value) => Regex.Replace(
        Regex.Replace(value, @"(?<=://[^/:@\s]*:)[^@\s]+(?=@)", "***"),
        @"(?i)\b(password|pwd)\s*=\s*[^;]*", "$1=***");

    /// <summary>What a value must look like, for error messages.</summary>
    public string Expected()
    {
        var type = Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant()));
        if (type == typeof(TimeSpan)) return "a duration as [d.]hh:mm:ss[.fff] (e.g. 00:01:00 for a minute)";
        if (type == typeof(int) || type == typeof(long)) return "a whole number";
        if (type == typeof(bool)) return "true or false";
        return "a " + type.Name;
    }

    private static string Snake(string name)
    {
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]))) text.Append('_');
            text.Append(char.ToUpperInvariant(name[i]));
        }
        return text.ToString();
    }
}
