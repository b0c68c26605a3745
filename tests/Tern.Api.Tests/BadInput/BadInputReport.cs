using System.Text;

namespace Tern.Api.Tests.BadInput;

/// <summary>What a family of cases got back: counts per status for the test output, and every violation.</summary>
public sealed class BadInputReport(string family, IReadOnlyList<BadInputReport.Outcome> outcomes, TimeSpan elapsed)
{
    /// <param name="Status">0 when no answer came.</param>
    /// <param name="Violation">Null when the answer held the invariants.</param>
    public sealed record Outcome(BadCase Case, int Status, string? Violation, string Body);

    public IReadOnlyList<Outcome> Outcomes => outcomes;

    public IReadOnlyList<Outcome> Violations => [.. outcomes.Where(o => o.Violation is not null)];

    public SortedDictionary<int, int> StatusCounts => new(outcomes.GroupBy(o => o.Status).ToDictionary(g => g.Key, g => g.Count()));

    public string Summary
    {
        get
        {
            var statuses = string.Join(", ", StatusCounts.Select(s => $"{(s.Key == 0 ? "no response" : s.Key)}: {s.Value}"));
            var raw = outcomes.Count(o => o.Case.Raw is not null);
            var kestrel = outcomes.Count(o => o.Case.KestrelLevel is not null);
            return $"{family}: {outcomes.Count} requests ({raw} over raw sockets, {kestrel} answered by Kestrel itself) in {elapsed.TotalSeconds:F1} s; "
                   + $"statuses {statuses}; {Violations.Count} violations";
        }
    }

    /// <summary>Every violation, one line each: route, mutation, status, what is wrong, the start of the body.</summary>
    public string Describe()
    {
        var text = new StringBuilder(Summary).AppendLine();
        foreach (var o in Violations)
            text.AppendLine($"  {o.Case.Route} [{o.Case.Mutation}] -> {o.Status}: {o.Violation}; body: {Snippet(o.Body)}");
        return text.ToString();
    }

    private static string Snippet(string body)
    {
        var oneLine = body.ReplaceLineEndings(" ");
        return oneLine.Length <= 200 ? oneLine : oneLine[..200] + "...";
    }
}
