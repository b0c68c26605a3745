using System.Globalization;
using System.Text;

namespace Tern.Api.Tests.Metrics;

/// <summary>A strict reader of the Prometheus text exposition format 0.0.4, written from the format's rules, to check
/// what GET /metrics serves. Throws FormatException (with the line number) on the first rule a line breaks:
/// HELP/TYPE at most once per family and before its samples, one contiguous group per family, metric and label names,
/// label syntax and escapes (\\ \" \n only), values (floats, +Inf, -Inf, NaN), counters not negative, and histograms
/// with non-decreasing `le` and cumulative counts, a `+Inf` bucket equal to `_count`, and a `_sum`.</summary>
public sealed class PrometheusTextParser
{
    private static readonly HashSet<string> Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public sealed class Family(string name)
    {
        public string Name { get; } = name;
        public string? Help { get; set; }
        public string? Type { get; set; }
        public List<Sample> Samples { get; } = [];
    }

    public Dictionary<string, Family> Families { get; } = new(StringComparer.Ordinal);

    public static PrometheusTextParser Parse(string text)
    {
        var parser = new PrometheusTextParser();
        parser.Read(text);
        return parser;
    }

    /// <summary>The value of the one sample with this name and exactly these labels, or null.</summary>
    public double? Value(string name, params (string Key, string Value)[] labels) =>
        Families.Values.SelectMany(f => f.Samples)
            .Where(s => s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value))
            .Select(s => (double?)s.Value).SingleOrDefault();

    private void Read(string text)
    {
        if (text.Length > 0 && !text.EndsWith('\n')) throw new FormatException("the exposition must end with a line feed");
        var lines = text.Split('\n');
        var done = new HashSet<string>(StringComparer.Ordinal); // families whose group of samples has ended
        string? current = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var n = 0; n < lines.Length - 1; n++)
        {
            var line = lines[n];
            try
            {
                if (line.Length == 0) continue;
                if (line.Contains('\r')) throw new FormatException("carriage return in a line");
                if (line.StartsWith('#'))
                {
                    ReadComment(line, done, ref current);
                    continue;
                }
                var sample = ReadSample(line);
                var family = FamilyOf(sample.Name)
                    ?? throw new FormatException($"sample '{sample.Name}' has no # TYPE before it");
                if (current != family.Name)
                {
                    if (done.Contains(family.Name)) throw new FormatException($"the samples of '{family.Name}' are not one group");
                    if (current is not null) done.Add(current);
                    current = family.Name;
                }
                var key = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
                if (!seen.Add(key)) throw new FormatException($"duplicate series {key}");
                if (family.Type == "counter" && (sample.Value < 0 || double.IsNaN(sample.Value)))
                    throw new FormatException($"counter '{sample.Name}' is {sample.Value}");
                family.Samples.Add(sample);
            }
            catch (FormatException e)
            {
                throw new FormatException($"line {n + 1} '{line}': {e.Message}", e);
            }
        }
        foreach (var family in Families.Values.Where(f => f.Type == "histogram")) CheckHistogram(family);
    }

    private void ReadComment(string line, HashSet<string> done, ref string? current)
    {
        var isHelp = line.StartsWith("# HELP ", StringComparison.Ordinal);
        if (!isHelp && !line.StartsWith("# TYPE ", StringComparison.Ordinal)) return; // any other comment
        var rest = line[7..];
        var space = rest.IndexOf(' ');
        var name = space < 0 ? rest : rest[..space];
        var value = space < 0 ? "" : rest[(space + 1)..];
        CheckMetricName(name);
        if (done.Contains(name) || current == name) throw new FormatException($"# {(isHelp ? "HELP" : "TYPE")} for '{name}' after its samples");
        if (current is not null) { done.Add(current); current = null; }
        var family = Families.TryGetValue(name, out var f) ? f : Families[name] = new Family(name);
        if (isHelp)
        {
            if (family.Help is not null) throw new FormatException($"second # HELP for '{name}'");
            family.Help = Unescape(value, allowQuote: false);
        }
        else
        {
            if (family.Type is not null) throw new FormatException($"second # TYPE for '{name}'");
            if (!Types.Contains(value)) throw new FormatException($"unknown type '{value}'");
            family.Type = value;
        }
    }

    private Family? FamilyOf(string sampleName)
    {
        if (Families.TryGetValue(sampleName, out var exact) && exact.Type is not null) return exact;
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal)
                && Families.TryGetValue(sampleName[..^suffix.Length], out var f) && f.Type is "histogram" or "summary"
                && (suffix != "_bucket" || f.Type == "histogram"))
                return f;
        return null;
    }

    private static Sample ReadSample(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ') i++;
        var name = line[..i];
        CheckMetricName(name);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i >= line.Length) throw new FormatException("unterminated label set");
                if (line[i] == '}') { i++; break; }
                var start = i;
                while (i < line.Length && line[i] != '=') i++;
                var labelName = line[start..i];
                CheckLabelName(labelName);
                if (i + 1 >= line.Length || line[i + 1] != '"') throw new FormatException($"label '{labelName}' value is not quoted");
                i += 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length) throw new FormatException($"unterminated value of label '{labelName}'");
                    var c = line[i++];
                    if (c == '"') break;
                    if (c != '\\') { value.Append(c); continue; }
                    if (i >= line.Length) throw new FormatException("dangling backslash");
                    value.Append(line[i++] switch
                    {
                        '\\' => '\\', '"' => '"', 'n' => '\n',
                        var other => throw new FormatException($"invalid escape \\{other} in a label value"),
                    });
                }
                if (!labels.TryAdd(labelName, value.ToString())) throw new FormatException($"label '{labelName}' twice");
                if (i < line.Length && line[i] == ',') i++;
                else if (i >= line.Length || line[i] != '}') throw new FormatException("labels must be separated by ','");
            }
        }
        if (i >= line.Length || line[i] != ' ') throw new FormatException("no space before the value");
        var parts = line[(i + 1)..].Split(' ');
        if (parts.Length is < 1 or > 2 || parts.Any(p => p.Length == 0)) throw new FormatException("expected a value and an optional timestamp");
        var v = ParseValue(parts[0]);
        if (parts.Length == 2 && !long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            throw new FormatException($"invalid timestamp '{parts[1]}'");
        return new Sample(name, labels, v);
    }

    public static double ParseValue(string text) => text switch
    {
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) => v,
        _ => throw new FormatException($"invalid value '{text}'"),
    };

    private static void CheckHistogram(Family family)
    {
        var byLabels = family.Samples.GroupBy(s =>
            string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)));
        foreach (var series in byLabels)
        {
            var buckets = series.Where(s => s.Name == family.Name + "_bucket").ToList();
            if (buckets.Count == 0) throw new FormatException($"histogram '{family.Name}' {{{series.Key}}} has no buckets");
            double previousLe = double.NegativeInfinity, previousCount = 0;
            foreach (var b in buckets)
            {
                if (!b.Labels.TryGetValue("le", out var leText)) throw new FormatException($"a bucket of '{family.Name}' has no le label");
                var le = ParseValue(leText);
                if (le <= previousLe) throw new FormatException($"'{family.Name}' buckets not in increasing le order at le={leText}");
                if (b.Value < previousCount) throw new FormatException($"'{family.Name}' buckets not cumulative at le={leText}");
                previousLe = le;
                previousCount = b.Value;
            }
            if (!double.IsPositiveInfinity(previousLe)) throw new FormatException($"'{family.Name}' {{{series.Key}}} has no le=\"+Inf\" bucket");
            var count = series.SingleOrDefault(s => s.Name == family.Name + "_count")
                ?? throw new FormatException($"'{family.Name}' {{{series.Key}}} has no _count");
            if (series.All(s => s.Name != family.Name + "_sum")) throw new FormatException($"'{family.Name}' {{{series.Key}}} has no _sum");
            if (count.Value != previousCount) throw new FormatException($"'{family.Name}' +Inf bucket {previousCount} differs from _count {count.Value}");
        }
    }

    private static string Unescape(string text, bool allowQuote)
    {
        var result = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\') { result.Append(text[i]); continue; }
            if (++i >= text.Length) throw new FormatException("dangling backslash");
            result.Append(text[i] switch
            {
                '\\' => '\\', 'n' => '\n', '"' when allowQuote => '"',
                var other => throw new FormatException($"invalid escape \\{other}"),
            });
        }
        return result.ToString();
    }

    private static void CheckMetricName(string name)
    {
        if (name.Length == 0 || !IsNameStart(name[0], colon: true) || name.Any(c => !IsNameStart(c, colon: true) && c is not (>= '0' and <= '9')))
            throw new FormatException($"invalid metric name '{name}'");
    }

    private static void CheckLabelName(string name)
    {
        if (name.Length == 0 || !IsNameStart(name[0], colon: false) || name.Any(c => !IsNameStart(c, colon: false) && c is not (>= '0' and <= '9')))
            throw new FormatException($"invalid label name '{name}'");
        if (name.StartsWith("__", StringComparison.Ordinal)) throw new FormatException($"label name '{name}' is reserved");
    }

    private static bool IsNameStart(char c, bool colon) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' || colon && c == ':';
}
