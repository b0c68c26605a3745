namespace Tern.Cli.Tests;

/// <summary>Runs the CLI in-process with captured stdout/stderr, a stub daemon, and an empty environment
/// (so a TERN_SERVER set on the machine cannot leak into the tests).</summary>
internal static class CliHarness
{
    public static async Task<CliRun> RunAsync(StubHttpHandler? http, string[] args, string? stdin = null,
        IReadOnlyDictionary<string, string>? environment = null, Action<CliApp>? configure = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(stdout, stderr, stdin is null ? null : new StringReader(stdin), http,
            name => environment is not null && environment.TryGetValue(name, out var value) ? value : null);
        configure?.Invoke(app);
        var exitCode = await app.RunAsync(args);
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the CLI in-process against a real daemon (no stub), with an empty environment.</summary>
    public static async Task<CliRun> RunAgainstAsync(Uri server, string[] args, CancellationToken ct = default)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await new CliApp(stdout, stderr, null, null, _ => null).RunAsync([.. args, "--server", server.ToString()], ct);
        return new CliRun(exit, stdout.ToString(), stderr.ToString());
    }
}
