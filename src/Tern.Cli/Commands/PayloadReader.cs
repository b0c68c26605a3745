using System.Text.Json;

namespace Tern.Cli.Commands;

/// <summary>Chooses the invoke payload (-d, then -f, then redirected stdin, else "{}") and checks it is JSON
/// before anything is sent, so a typo is reported here rather than as a server 400.</summary>
internal static class PayloadReader
{
    public const string EmptyPayload = "{}";

    /// <param name="stdin">Null when stdin is a terminal: then there is nothing to read and the payload is "{}".</param>
    public static string Read(string? data, string? file, TextReader? stdin)
    {
        if (data is not null) return Validate(data, "-d");
        if (file is not null) return Validate(file == "-" ? ReadStdin(stdin) : ReadFile(file), $"file '{file}'");
        if (stdin is null) return EmptyPayload;
        var piped = ReadStdin(stdin);
        // `tern invoke f </dev/null` (or a script with no input) means "no payload", not "invalid JSON".
        return string.IsNullOrWhiteSpace(piped) ? EmptyPayload : Validate(piped, "stdin");
    }

    private static string Validate(string json, string source)
    {
        try
        {
            using var _ = JsonDocument.Parse(json);
            return json;
        }
        catch (JsonException e)
        {
            throw new CliException($"the payload from {source} is not valid JSON: {e.Message}");
        }
    }

    private static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliException($"payload file '{path}' does not exist");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read payload file '{path}': {e.Message}");
        }
    }

    private static string ReadStdin(TextReader? stdin) => stdin?.ReadToEnd() ?? "";
}
