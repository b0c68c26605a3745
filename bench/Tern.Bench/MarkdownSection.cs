namespace Tern.Bench;

/// <summary>A named part of docs/benchmarks.md between "&lt;!-- NAME:begin --&gt;" and "&lt;!-- NAME:end --&gt;", so a
/// benchmark run alone (wasm, isolation) replaces only its own figures and a full run keeps the ones it did not make.</summary>
public sealed record MarkdownSection(string Name)
{
    public string Begin => $"<!-- {Name}:begin -->";
    public string End => $"<!-- {Name}:end -->";

    /// <summary>The body between this section's markers.</summary>
    public string Wrap(string body) => $"{Begin}\n{body.TrimEnd()}\n{End}\n";

    /// <summary>The whole block (markers included) in <paramref name="file"/>, or null.</summary>
    public string? Find(string file)
    {
        var (start, end) = Bounds(file);
        return start >= 0 ? file[start..end] : null;
    }

    /// <summary><paramref name="file"/> with <paramref name="block"/> (markers included) in place of this section, or
    /// appended when it has none.</summary>
    public string Put(string file, string block)
    {
        var (start, end) = Bounds(file);
        return start >= 0
            ? file[..start] + block.TrimEnd() + "\n" + file[end..].TrimStart('\n')
            : file.TrimEnd() + "\n\n" + block.TrimEnd() + "\n";
    }

    private (int Start, int End) Bounds(string file)
    {
        var start = file.IndexOf(Begin, StringComparison.Ordinal);
        var end = start < 0 ? -1 : file.IndexOf(End, start, StringComparison.Ordinal);
        return end < 0 ? (-1, -1) : (start, end + End.Length);
    }
}
