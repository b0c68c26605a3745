using System.CommandLine;
using Tern.Cli.Output;

namespace Tern.Cli.Commands;

/// <summary>--server and -o, accepted on every command (Recursive).</summary>
internal sealed class GlobalOptions
{
    public const string DefaultServer = "http://127.0.0.1:8080";
    public const string ServerVariable = "TERN_SERVER";

    public GlobalOptions(Func<string, string?> environment)
    {
        Server = new Option<string>("--server")
        {
            Description = $"URL of the Tern daemon (env {ServerVariable})",
            Recursive = true,
            HelpName = "URL",
            DefaultValueFactory = _ => environment(ServerVariable) is { Length: > 0 } fromEnv ? fromEnv : DefaultServer,
        };
        Output = new Option<string>("--output", "-o")
        {
            Description = "Output format",
            Recursive = true,
            DefaultValueFactory = _ => "table",
        }.AcceptOnlyFromAmong("table", "json", "yaml");
    }

    public Option<string> Server { get; }

    public Option<string> Output { get; }

    /// <summary>The daemon URL, checked: a malformed --server is a usage error, not a connection failure.</summary>
    public string GetServer(ParseResult result)
    {
        var server = result.GetValue(Server) ?? DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new CliException($"--server must be an http:// or https:// URL, not '{server}'", ExitCodes.Usage);
        return server;
    }

    public OutputFormat GetOutput(ParseResult result) => result.GetValue(Output) switch
    {
        "json" => OutputFormat.Json,
        "yaml" => OutputFormat.Yaml,
        _ => OutputFormat.Table,
    };
}
