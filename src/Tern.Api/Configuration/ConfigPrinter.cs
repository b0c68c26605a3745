namespace Tern.Api.Configuration;

/// <summary>`tern daemon --print-config`: every setting, its effective value, where the value came from, and the
/// environment variable that sets it. The same table, with descriptions, is the README's list of settings.</summary>
public static class ConfigPrinter
{
    public static void Print(DaemonConfiguration configuration, TextWriter output, bool withDescriptions = false)
    {
        var rows = configuration.Effective().ToList();
        var keyWidth = Math.Max("SETTING".Length, rows.Max(r => r.Setting.DisplayKey.Length));
        var valueWidth = Math.Min(48, Math.Max("VALUE".Length, rows.Max(r => r.Value.Length)));
        var sourceWidth = Math.Max("SOURCE".Length, rows.Max(r => r.Source.Length));
        output.WriteLine($"{"SETTING".PadRight(keyWidth)}  {"VALUE".PadRight(valueWidth)}  {"SOURCE".PadRight(sourceWidth)}  ENV");
        foreach (var (setting, value, source) in rows)
        {
            output.WriteLine($"{setting.DisplayKey.PadRight(keyWidth)}  {value.PadRight(valueWidth)}  {source.PadRight(sourceWidth)}  {string.Join(", ", setting.EnvironmentVariables)}");
            if (withDescriptions && setting.Description.Length > 0) output.WriteLine($"    {setting.Description}");
        }
    }
}
