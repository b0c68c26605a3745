using System.CommandLine;
using Tern.Api.Hosting;
using Tern.Storage.Schema;
using Tern.Storage.Secrets;

namespace Tern.Cli.Commands;

/// <summary>`tern daemon`: hosts the API in this process until Ctrl+C or SIGTERM.</summary>
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
        var auth = new Option<string>("--auth")
        {
            Description = "Require API keys: on, off, or auto = on unless listening on loopback (env TERN_AUTH, default auto)",
        }.AcceptOnlyFromAmong("on", "off", "auto");
        var command = new Command("daemon", "Run the Tern server") { listen, dataDir, auth };
        command.SetAction(async (result, ct) =>
        {
            // DaemonOptions already reads TERN_LISTEN / TERN_DATA_DIR; flags given here win.
            var options = new DaemonOptions();
            if (result.GetValue(listen) is { Length: > 0 } address) options.Listen = address;
            if (result.GetValue(dataDir) is { Length: > 0 } dir) options.DataDir = Path.GetFullPath(dir);
            if (result.GetValue(auth) is { Length: > 0 } mode) options.Auth = Tern.Api.Auth.AuthModes.Parse(mode);
            try
            {
                await context.DaemonRunner(options, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl+C / SIGTERM is how a daemon is meant to stop.
            }
            catch (Exception e) when (e is MasterKeyException or SchemaTooNewException or SchemaMigrationException)
            {
                // The data directory cannot be used as it is: one clear line, no stack trace, and no half-started daemon.
                Console.Error.WriteLine($"tern: cannot start: {e.Message}");
                return ExitCodes.Failure;
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
