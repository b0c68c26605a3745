using Xunit.Abstractions;

namespace Tern.Api.Tests.BadInput;

/// <summary>Bad input over every route of the OpenAPI document, one test per family of mutations. Each asserts, over
/// all of its requests: no 5xx, every 4xx an application/problem+json body whose status matches and which has a
/// title; then that the daemon is still ready and a plain call still works. A failure lists every offending
/// request, not just the first.</summary>
public sealed class BadInputTests(BadInputDaemon daemon, ITestOutputHelper output) : IClassFixture<BadInputDaemon>
{
    [Fact]
    public Task WrongTypes() => RunAsync(1, "wrong types", BodyFieldCases.WrongTypes);

    [Fact]
    public Task MissingAndExtraFields() => RunAsync(2, "missing and extra fields", BodyShapeCases.MissingAndExtra);

    [Fact]
    public Task HugeEmptyAndNullValues() => RunAsync(3, "huge, empty and null values", BodyFieldCases.Extremes);

    [Fact]
    public Task ControlCharactersAndUnicode() => RunAsync(4, "control characters and unicode", BodyFieldCases.OddText);

    [Fact]
    public Task InvalidJsonAndDepthBombs() => RunAsync(5, "invalid JSON and depth bombs", BodyShapeCases.InvalidJson);

    [Fact]
    public Task PathParameters() => RunAsync(6, "path parameters", PathAndQueryCases.PathParameters);

    [Fact]
    public Task QueryParameters() => RunAsync(7, "query parameters", PathAndQueryCases.Query);

    [Fact]
    public Task Headers() => RunAsync(8, "headers", HeaderCases.All);

    [Fact]
    public Task WrongContentTypes() => RunAsync(9, "content types", ContentTypeCases.WrongContentTypes);

    [Fact]
    public Task BrokenMultipart() => RunAsync(10, "broken multipart", MultipartCases.All);

    [Fact]
    public Task UndocumentedMethodsAndRoutes() => RunAsync(11, "undocumented methods and routes", ContentTypeCases.UndocumentedMethodsAndRoutes);

    [Fact]
    public Task FramingAndContentLength() => RunAsync(12, "framing and Content-Length (raw socket)", RawCases.All);

    /// <summary>The generator really works from the document: every operation gets cases, and there are enough.</summary>
    [Fact]
    public void EveryDocumentedOperation_GetsCases()
    {
        Assert.True(daemon.Operations.Count >= 30, $"only {daemon.Operations.Count} operations read from the document");
        var cases = Families.SelectMany(f => f(daemon.Context(0))).ToList();
        var missing = daemon.Operations.Where(o => cases.All(c => c.Route != o.Route)).Select(o => o.Route).ToList();
        Assert.True(missing.Count == 0, "operations without cases: " + string.Join(", ", missing));
        Assert.True(cases.Count >= 1000, $"only {cases.Count} cases");
        foreach (var body in daemon.Operations.Where(o => o.Body is { IsOpaque: false }))
            Assert.Contains(cases, c => c.Route == body.Route && c.Family == "wrong types");
    }

    private static readonly Func<CaseContext, IEnumerable<BadCase>>[] Families =
    [
        BodyFieldCases.WrongTypes, BodyShapeCases.MissingAndExtra, BodyFieldCases.Extremes, BodyFieldCases.OddText, BodyShapeCases.InvalidJson,
        PathAndQueryCases.PathParameters, PathAndQueryCases.Query, HeaderCases.All, ContentTypeCases.WrongContentTypes, MultipartCases.All,
        ContentTypeCases.UndocumentedMethodsAndRoutes, RawCases.All,
    ];

    private async Task RunAsync(int seed, string family, Func<CaseContext, IEnumerable<BadCase>> generate)
    {
        var cases = generate(daemon.Context(seed)).ToList();
        Assert.NotEmpty(cases);
        var report = await daemon.Runner.RunAsync(family, cases);
        output.WriteLine(report.Summary);
        output.WriteLine(daemon.Record(report));
        Assert.True(report.Violations.Count == 0, daemon.Describe(report));
        Assert.False(daemon.Daemon.HasExited, "the daemon exited:\n" + daemon.Daemon.RecentOutput);
        await BadInputSetup.AssertStillServingAsync(daemon.Client);
    }
}
