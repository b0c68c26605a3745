using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Tern.Api.Hosting;
using Tern.Cli.Client;
using Tern.Cli.Commands;

namespace Tern.Cli;

/// <summary>The whole `tern` command line, with its console, network and daemon injectable so tests can run
/// it in-process. Every failure ends as one `error: ` line on stderr and a non-zero exit code; never a stack trace.</summary>
public sealed class CliApp
{
    private readonly TextWriter _stdout;
    private readonly TextWriter _stderr;
    private readonly TextReader? _stdin;
    private readonly HttpMessageHandler? _httpHandler;
    private readonly Func<string, string?> _environment;

    /// <param name="stdin">The piped-in input, or null when stdin is a terminal (then `invoke` sends "{}").</param>
    /// <param name="httpHandler">Transport to the daemon; null for the real network. Not disposed by the app.</param>
    /// <param name="environment">Reads environment variables (TERN_SERVER); defaults to the process environment.</param>
    public CliApp(TextWriter stdout, TextWriter stderr, TextReader? stdin = null, HttpMessageHandler? httpHandler = null,
        Func<string, string?>? environment = null)
    {
        _stdout = stdout;
        _stderr = stderr;
        _stdin = stdin;
        _httpHandler = httpHandler;
        _environment = environment ?? Environment.GetEnvironmentVariable;
    }

    /// <summary>What `tern daemon` runs; replaceable so tests can check the options without starting a server.</summary>
    internal Func<DaemonStartup, CancellationToken, Task> DaemonRunner { get; set; } = DaemonHost.RunAsync;

    /// <summary>How often `exec get --watch` polls; shortened by tests.</summary>
    internal TimeSpan WatchInterval { get; set; } = ExecCommands.DefaultWatchInterval;

    /// <summary>Parses and runs one command line; returns the process exit code (see <see cref="ExitCodes"/>).</summary>
    public async Task<int> RunAsync(string[] args, CancellationToken ct = default)
    {
        var root = BuildRootCommand();
        var parsed = root.Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            // System.CommandLine would print help plus every error; one line is easier to read and to grep.
            var errors = parsed.Errors.Select(e => OneLine(e.Message)).Distinct();
            _stderr.WriteLine($"error: {string.Join("; ", errors)} (see: {HelpCommandLine(parsed)})");
            return ExitCodes.Usage;
        }

        var configuration = new InvocationConfiguration
        {
            Output = _stdout,
            Error = _stderr,
            EnableDefaultExceptionHandler = false,
            // Program.cs owns signal handling and passes it in as ct.
            ProcessTerminationTimeout = null,
        };
        try
        {
            return await parsed.InvokeAsync(configuration, ct).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var (message, code) = Describe(e, ct);
            _stderr.WriteLine("error: " + message);
            return code;
        }
    }

    private static (string Message, int ExitCode) Describe(Exception e, CancellationToken ct) => e switch
    {
        CliException cli => (cli.Message, cli.ExitCode),
        TernApiException { Status: System.Net.HttpStatusCode.Unauthorized } api =>
            ($"{api.Message} (pass --api-key KEY or set {GlobalOptions.ApiKeyVariable})", ExitCodes.Failure),
        TernApiException api => (api.Message, ExitCodes.Failure),
        DaemonUnreachableException unreachable => (unreachable.Message, ExitCodes.Failure),
        HttpRequestException http => ($"request to the Tern daemon failed: {OneLine(http.Message)}", ExitCodes.Failure),
        OperationCanceledException when ct.IsCancellationRequested => ("cancelled", ExitCodes.Cancelled),
        _ => (OneLine(e.Message), ExitCodes.Failure),
    };

    /// <summary>Some System.CommandLine messages span lines (e.g. the list of allowed values).</summary>
    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>"tern create --help" for the command that failed to parse.</summary>
    private static string HelpCommandLine(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, result.Parent is null ? "tern" : result.Command.Name);
        return string.Join(' ', names) + " --help";
    }

    private RootCommand BuildRootCommand()
    {
        var context = new CliContext
        {
            Stdout = _stdout,
            Stderr = _stderr,
            Stdin = _stdin,
            HttpHandler = _httpHandler,
            Global = new GlobalOptions(_environment),
            DaemonRunner = DaemonRunner,
        };
        var root = new RootCommand("Tern: a self-hosted serverless platform. Register functions and invoke them.");
        // A bare `tern` shows what it can do rather than a "required command" error.
        root.SetAction(result => new HelpAction().Invoke(result));
        root.Options.Add(context.Global.Server);
        root.Options.Add(context.Global.Output);
        root.Options.Add(context.Global.ApiKey);
        foreach (var command in FunctionCommands.Create(context)) root.Subcommands.Add(command);
        root.Subcommands.Add(InvokeCommand.Create(context));
        root.Subcommands.Add(EnqueueCommand.Create(context));
        root.Subcommands.Add(ExecCommands.Create(context, WatchInterval));
        root.Subcommands.Add(LogsCommand.Create(context));
        root.Subcommands.Add(DeadLetterCommands.Create(context));
        root.Subcommands.Add(SecretCommands.Create(context));
        foreach (var command in VersionCommands.Create(context)) root.Subcommands.Add(command);
        root.Subcommands.Add(ScheduleCommands.Create(context));
        root.Subcommands.Add(ApiKeyCommands.Create(context));
        root.Subcommands.Add(SnapshotCommands.Create(context));
        root.Subcommands.Add(ImageCommands.Create(context));
        root.Subcommands.Add(StatusCommand.Create(context));
        foreach (var command in ProjectCommands.Create(context)) root.Subcommands.Add(command);
        root.Subcommands.Add(DaemonCommand.Create(context));
        return root;
    }
}
