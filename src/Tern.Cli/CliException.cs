namespace Tern.Cli;

/// <summary>A failure the CLI detected itself (missing file, bad payload...). Its message becomes the one
/// `error: ` line on stderr; no stack trace is ever shown for it.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
