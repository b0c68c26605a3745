using Tern.Api.Metrics;
using Tern.Testing;

namespace Tern.Api.Tests.Metrics;

/// <summary>The exposition writer against the text-format rules (through the test's own parser), without a daemon.</summary>
public sealed class PrometheusTextTests
{
    private static readonly KeyValuePair<string, string>[] NoLabels = [];

    [Fact]
    public void LabelValues_EscapeBackslashQuoteAndLineFeed_AndParseBack()
    {
        var tricky = "a\\b\"c\nd";
        var text = PrometheusText.Write([
            new MetricFamily("x_total", "counter", "help with \\ and\nnewline", [new([KeyValuePair.Create("function", tricky)], 3)]),
        ]);
        Assert.Equal("# HELP x_total help with \\\\ and\\nnewline\n# TYPE x_total counter\nx_total{function=\"a\\\\b\\\"c\\nd\"} 3\n", text);
        var parsed = PrometheusTextParser.Parse(text);
        Assert.Equal(3, parsed.Value("x_total", ("function", tricky)));
        Assert.Equal("help with \\ and\nnewline", parsed.Families["x_total"].Help);
    }

    [Fact]
    public void Histogram_BucketsAreCumulative_WithInfEqualToCount()
    {
        var text = PrometheusText.Write([
            new MetricFamily("d_seconds", "histogram", "durations", [
                new([KeyValuePair.Create("function", "f")], 0) { Bounds = [0.1, 1], BucketCounts = [2, 0, 1], Sum = 5.5, Count = 3 },
            ]),
            new MetricFamily("g", "gauge", "a gauge", [new(NoLabels, double.NaN), new([KeyValuePair.Create("k", "v")], double.PositiveInfinity)]),
        ]);
        Assert.Contains("d_seconds_bucket{function=\"f\",le=\"0.1\"} 2\n", text);
        Assert.Contains("d_seconds_bucket{function=\"f\",le=\"1\"} 2\n", text);
        Assert.Contains("d_seconds_bucket{function=\"f\",le=\"+Inf\"} 3\n", text);
        Assert.Contains("d_seconds_sum{function=\"f\"} 5.5\n", text);
        Assert.Contains("d_seconds_count{function=\"f\"} 3\n", text);
        Assert.Contains("g NaN\n", text);
        Assert.Contains("g{k=\"v\"} +Inf\n", text);
        var parsed = PrometheusTextParser.Parse(text);
        Assert.Equal(3, parsed.Value("d_seconds_count", ("function", "f")));
    }

    [Fact]
    public async Task Write_EscapesNonFiniteValuesAndEmptyFamilies_AreCleanUnderPromtool()
    {
        var text = PrometheusText.Write([
            new MetricFamily("x_total", "counter", "help with \\ and\nnewline", [new([KeyValuePair.Create("function", "a\\b\"c\nd")], 3)]),
            new MetricFamily("d_seconds", "histogram", "durations", [
                new([KeyValuePair.Create("function", "f")], 0) { Bounds = [0.1, 1], BucketCounts = [2, 0, 1], Sum = 5.5, Count = 3 },
            ]),
            new MetricFamily("g", "gauge", "a gauge", [new(NoLabels, double.NaN), new([KeyValuePair.Create("k", "v")], double.NegativeInfinity)]),
            new MetricFamily("none_yet_total", "counter", "a counter nothing has touched yet", []),
        ]);
        var (exitCode, output) = await Promtool.CheckMetricsAsync(text);
        Assert.True(exitCode == 0 && output.Length == 0, $"promtool check metrics exited {exitCode}:\n{output}\n--- input:\n{text}");
    }

    [Fact]
    public void Names_AreSanitised()
    {
        Assert.Equal("a_b:c", PrometheusText.SanitizeName("a.b:c"));
        Assert.Equal("_x", PrometheusText.SanitizeName("9x"));
        Assert.Equal("a_b", PrometheusText.SanitizeLabelName("a:b"));
    }

    [Theory]
    [InlineData("x 1\n")] // no TYPE
    [InlineData("# TYPE x counter\nx -1\n")] // negative counter
    [InlineData("# TYPE x gauge\nx{a=\"\\t\"} 1\n")] // bad escape
    [InlineData("# TYPE x gauge\nx{a=b} 1\n")] // unquoted label value
    [InlineData("# TYPE x gauge\nx 1\n# TYPE x gauge\n")] // TYPE twice / after samples
    [InlineData("# TYPE x gauge\nx one\n")] // bad value
    [InlineData("# TYPE 1x gauge\n")] // bad name
    [InlineData("# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a=\"b\"} 2\n")] // family split in two groups
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")] // not cumulative
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n")] // no +Inf bucket
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n")] // +Inf differs from _count
    [InlineData("# TYPE x gauge\nx 1")] // no final line feed
    public void Parser_RejectsWhatBreaksTheRules(string text) =>
        Assert.Throws<FormatException>(() => PrometheusTextParser.Parse(text));
}
