namespace Tern.Cli.Tests;

/// <summary>The result of one in-process CLI run.</summary>
internal sealed record CliRun(int ExitCode, string Stdout, string Stderr);
