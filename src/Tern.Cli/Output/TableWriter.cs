namespace Tern.Cli.Output;

/// <summary>Left-aligned columns separated by two spaces, like kubectl: readable and easy to cut/awk.</summary>
internal static class TableWriter
{
    private const string Gap = "  ";

    public static void Write(TextWriter output, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { headers };
        all.AddRange(rows);
        var widths = new int[headers.Count];
        foreach (var row in all)
            for (var i = 0; i < widths.Length; i++) widths[i] = Math.Max(widths[i], Cell(row, i).Length);

        foreach (var row in all)
        {
            var cells = Enumerable.Range(0, widths.Length)
                .Select(i => i == widths.Length - 1 ? Cell(row, i) : Cell(row, i).PadRight(widths[i]));
            output.WriteLine(string.Join(Gap, cells).TrimEnd());
        }
    }

    private static string Cell(IReadOnlyList<string> row, int i) => i < row.Count ? row[i] : "";
}
