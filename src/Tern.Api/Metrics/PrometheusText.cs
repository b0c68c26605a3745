using System.Globalization;
using System.Text;

namespace Tern.Api.Metrics;

/// <summary>Writes metric families in the Prometheus text exposition format 0.0.4: per family `# HELP` and `# TYPE`,
/// then its samples; histograms as cumulative `_bucket{le="…"}` lines ending with `le="+Inf"`, then `_sum` and `_count`.</summary>
public static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(IEnumerable<MetricFamily> families)
    {
        var text = new StringBuilder();
        foreach (var family in families)
        {
            var name = SanitizeName(family.Name);
            text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(family.Help)).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(family.Type).Append('\n');
            foreach (var series in family.Series)
            {
                if (family.Type == "histogram" && series.Bounds is { } bounds && series.BucketCounts is { } counts)
                {
                    long cumulative = 0;
                    for (var i = 0; i < bounds.Count; i++)
                    {
                        cumulative += counts[i];
                        Sample(text, name + "_bucket", series.Labels, ("le", FormatValue(bounds[i])), cumulative);
                    }
                    Sample(text, name + "_bucket", series.Labels, ("le", "+Inf"), series.Count);
                    Sample(text, name + "_sum", series.Labels, null, series.Sum);
                    Sample(text, name + "_count", series.Labels, null, series.Count);
                }
                else
                {
                    Sample(text, name, series.Labels, null, series.Value);
                }
            }
        }
        return text.ToString();
    }

    private static void Sample(StringBuilder text, string name, IReadOnlyList<KeyValuePair<string, string>> labels, (string Name, string Value)? extra,
        double value)
    {
        text.Append(name);
        if (labels.Count > 0 || extra is not null)
        {
            text.Append('{');
            var first = true;
            foreach (var (key, labelValue) in labels) Label(key, labelValue);
            if (extra is { } e) Label(e.Name, e.Value);
            text.Append('}');

            void Label(string key, string labelValue)
            {
                if (!first) text.Append(',');
                first = false;
                text.Append(SanitizeLabelName(key)).Append("=\"").Append(EscapeLabelValue(labelValue)).Append('"');
            }
        }
        text.Append(' ').Append(FormatValue(value)).Append('\n');
    }

    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Label values escape backslash, double quote and line feed.</summary>
    public static string EscapeLabelValue(string value) =>
        value.Replace("\\", @"\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);

    /// <summary>HELP text escapes backslash and line feed.</summary>
    public static string EscapeHelp(string help) =>
        help.Replace("\\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);

    /// <summary>Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*; anything else becomes '_'.</summary>
    public static string SanitizeName(string name) => Sanitize(name, allowColon: true);

    /// <summary>Label names match [a-zA-Z_][a-zA-Z0-9_]*.</summary>
    public static string SanitizeLabelName(string name) => Sanitize(name, allowColon: false);

    private static string Sanitize(string name, bool allowColon)
    {
        if (name.Length == 0) return "_";
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' || allowColon && c == ':' || i > 0 && c is >= '0' and <= '9';
            if (!ok) chars[i] = '_';
        }
        return new string(chars);
    }
}
