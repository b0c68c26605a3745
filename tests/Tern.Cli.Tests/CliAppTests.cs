using Tern.Api.Hosting;

namespace Tern.Cli.Tests;

/// <summary>Parsing, help and the daemon command: nothing here talks HTTP.</summary>
public sealed class CliAppTests
{
    [Fact]
    public async Task RunAsync_Help_PrintsUsageAndExitsZero()
    {
        var run = await CliHarness.RunAsync(null, ["--help"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("invoke <NAME>", run.Stdout);
        Assert.Contains("create, register <NAME>", run.Stdout);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task RunAsync_NoArguments_PrintsHelp()
    {
        var run = await CliHarness.RunAsync(null, []);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Usage:", run.Stdout);
    }

    [Fact]
    public async Task RunAsync_UnknownCommand_PrintsOneErrorLineAndExitsTwo()
    {
        var run = await CliHarness.RunAsync(null, ["frobnicate"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("error: Unrecognized command or argument 'frobnicate'. (see: tern --help)\n", run.Stderr);
    }

    [Fact]
    public async Task RunAsync_BadOutputFormat_PrintsAllowedValuesOnOneLine()
    {
        var run = await CliHarness.RunAsync(null, ["list", "-o", "xml"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("error: Argument 'xml' not recognized. Must be one of: 'table' 'json' 'yaml' (see: tern list --help)\n", run.Stderr);
    }

    [Fact]
    public async Task RunAsync_MissingName_IsUsageErrorExitTwo()
    {
        var run = await CliHarness.RunAsync(null, ["get"]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: Required argument missing for command: 'get'.", run.Stderr);
    }

    [Fact]
    public async Task RunAsync_EnvWithoutEquals_IsUsageErrorExitTwo()
    {
        var run = await CliHarness.RunAsync(null, ["update", "hello", "--env", "FOO"]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: --env expects KEY=VALUE, got 'FOO'", run.Stderr);
    }

    [Fact]
    public async Task RunAsync_MalformedServerUrl_IsUsageErrorExitTwo()
    {
        var run = await CliHarness.RunAsync(null, ["list", "--server", "localhost"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("error: --server must be an http:// or https:// URL, not 'localhost'\n", run.Stderr);
    }

    [Fact]
    public async Task Daemon_Flags_OverrideOptionsPassedToTheHost()
    {
        DaemonStartup? seen = null;

        var run = await CliHarness.RunAsync(null, ["daemon", "--listen", "0.0.0.0:9999", "--data-dir", "/tmp/tern-data"],
            configure: app => app.DaemonRunner = (options, _) =>
            {
                seen = options;
                return Task.CompletedTask;
            });

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("0.0.0.0:9999", seen!.Flags.Values["daemon:listen"].Value);
        Assert.Equal("/tmp/tern-data", seen.Flags.Values["daemon:dataDir"].Value);
        Assert.Equal("--data-dir", seen.Flags.Values["daemon:dataDir"].Origin);
    }

    [Fact]
    public async Task Daemon_PrintConfig_ShowsEachSettingsValueAndOrigin_AndStartsNothing()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tern-print-config-" + Guid.NewGuid().ToString("N"));
        var run = await CliHarness.RunAsync(null, ["daemon", "--print-config", "--data-dir", dir, "--auth", "on"],
            configure: app => app.DaemonRunner = (_, _) => throw new InvalidOperationException("--print-config must not start the daemon"));

        Assert.Equal(0, run.ExitCode);
        var lines = run.Stdout.Split('\n');
        Assert.StartsWith("SETTING", lines[0]);
        Assert.Matches($@"^daemon\.dataDir +{System.Text.RegularExpressions.Regex.Escape(dir)} +--data-dir +TERN_DATA_DIR$", lines.Single(l => l.StartsWith("daemon.dataDir")));
        Assert.Matches(@"^daemon\.auth +on +--auth +TERN_AUTH$", lines.Single(l => l.StartsWith("daemon.auth")));
        Assert.Matches(@"^pools\.idleTtl +00:01:00 +default +TERN_POOLS_IDLE_TTL$", lines.Single(l => l.StartsWith("pools.idleTtl")));
        Assert.False(Directory.Exists(dir)); // nothing created
    }

    [Fact]
    public async Task Daemon_BadConfigFile_StopsWithOneLineNamingTheSetting()
    {
        var file = Path.Combine(Path.GetTempPath(), "tern-bad-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(file, "pools:\n  pingTimeout: soon\n");
        try
        {
            var run = await CliHarness.RunAsync(null, ["daemon", "--config", file],
                configure: app => app.DaemonRunner = (startup, _) => { Tern.Api.Hosting.DaemonHost.PrintConfig(startup, TextWriter.Null); return Task.CompletedTask; });
            Assert.Equal(1, run.ExitCode);
            Assert.StartsWith($"tern: cannot start: pools.pingTimeout = 'soon' (file {file}): expected a duration", run.Stderr);
            Assert.Single(run.Stderr.TrimEnd().Split('\n'));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task Daemon_HostFailsToStart_PrintsOneErrorLineAndExitsOne()
    {
        var run = await CliHarness.RunAsync(null, ["daemon"],
            configure: app => app.DaemonRunner = (_, _) => throw new IOException("Failed to bind to address http://127.0.0.1:8080: address already in use."));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: Failed to bind to address http://127.0.0.1:8080: address already in use.\n", run.Stderr);
    }

    [Fact]
    public async Task Daemon_CancelledBySignal_ExitsZero()
    {
        using var cts = new CancellationTokenSource();
        var stdout = new StringWriter();
        var app = new CliApp(stdout, new StringWriter(), environment: _ => null)
        {
            DaemonRunner = async (_, ct) => await Task.Delay(Timeout.Infinite, ct),
        };

        var running = app.RunAsync(["daemon"], cts.Token);
        await cts.CancelAsync();

        Assert.Equal(0, await running);
    }
}
