using System.CommandLine;
using Tern.Api.Configuration;
using Tern.Api.Hosting;
using Tern.Storage.Schema;
using Tern.Storage.Secrets;

namespace Tern.Cli.Commands;

/// <summary>`tern daemon`: hosts the API in this process until Ctrl+C or SIGTERM. Settings come from these flags, then
/// TERN_* variables, then the config file (--config), then defaults; --print-config shows the result.</summary>
internal static class DaemonCommand
{
    public static Command Create(CliContext context)
    {
        var listen = new Option<string>("--listen")
        {
            Description = $"Address to listen on (env TERN_LISTEN, default {DaemonOptions.DefaultListen})",
            HelpName = "HOST:PORT",
        };
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "Where functions and code are stored (env TERN_DATA_DIR, default ~/.local/share/tern)",
            HelpName = "DIR",
        };
        var store = new Option<string>("--store")
        {
            Description = "sqlite (default) or a Postgres connection string, postgres://user:password@host/db (env TERN_STORE)",
            HelpName = "STORE",
        };
        var auth = new Option<string>("--auth")
        {
            Description = "Require API keys: on, off, or auto = on unless listening on loopback (env TERN_AUTH, default auto)",
        }.AcceptOnlyFromAmong("on", "off", "auto");
        var config = new Option<string>("--config")
        {
            Description = $"A YAML (or .json) file of settings, below flags and TERN_* variables (env {DaemonConfiguration.ConfigFileVariable})",
            HelpName = "FILE",
        };
        var printConfig = new Option<bool>("--print-config")
        {
            Description = "Print every setting, its effective value and where it came from, then exit",
        };
        var command = new Command("daemon", "Run the Tern server") { listen, dataDir, store, auth, config, printConfig };
        command.SetAction(async (result, ct) =>
        {
            var flags = new ConfigLayer("flags");
            if (result.GetValue(listen) is { Length: > 0 } address) flags.Set("daemon:listen", address, "--listen");
            if (result.GetValue(dataDir) is { Length: > 0 } dir) flags.Set("daemon:dataDir", Path.GetFullPath(dir), "--data-dir");
            if (result.GetValue(store) is { Length: > 0 } storeSetting) flags.Set("daemon:store", storeSetting, "--store");
            if (result.GetValue(auth) is { Length: > 0 } mode) flags.Set("daemon:auth", mode, "--auth");
            var startup = new DaemonStartup(flags, result.GetValue(config) is { Length: > 0 } file ? file : null);
            try
            {
                if (result.GetValue(printConfig))
                {
                    DaemonHost.PrintConfig(startup, context.Stdout);
                    return ExitCodes.Success;
                }
                await context.DaemonRunner(startup, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl+C / SIGTERM is how a daemon is meant to stop.
            }
            catch (Exception e) when (e is DaemonConfigurationException or MasterKeyException or SchemaTooNewException or SchemaMigrationException)
            {
                // The settings or the data directory cannot be used as they are: one clear line, no stack trace, and no
                // half-started daemon.
                context.Stderr.WriteLine($"tern: cannot start: {e.Message}");
                return ExitCodes.Failure;
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
