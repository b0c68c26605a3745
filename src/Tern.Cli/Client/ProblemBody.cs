namespace Tern.Cli.Client;

/// <summary>An RFC 7807 problem body as the daemon sends it (application/problem+json).</summary>
internal sealed class ProblemBody
{
    public string? Type { get; set; }
    public string? Title { get; set; }
    public int? Status { get; set; }
    public string? Detail { get; set; }
    public Dictionary<string, string[]>? Errors { get; set; }
}
