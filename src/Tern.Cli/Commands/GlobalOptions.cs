using System.CommandLine;
using Tern.Cli.Output;

namespace Tern.Cli.Commands;

/// <summary>--server and -o, accepted on every command (Recursive).</summary>
internal sealed class GlobalOptions
{
    public const string DefaultServer = "http://127.0.0.1:8080";
    public const string ServerVariable = "TERN_SERVER";
    public const string ApiKeyVariable = "TERN_API_KEY";
    private readonly Func<string, string?> _environment;

    public GlobalOptions(Func<string, string?> environment)
    {
        _environment = environment;
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

    /// <summary>--api-key (env TERN_API_KEY), sent as X-API-Key when the daemon has auth on.</summary>
    public Option<string> ApiKey { get; } = new("--api-key")
    {
        Description = "API key for a daemon with auth on (env TERN_API_KEY)",
        Recursive = true,
        HelpName = "KEY",
    };

    public string? GetApiKey(ParseResult result) =>
        result.GetValue(ApiKey) is { Length: > 0 } key ? key : _environment(ApiKeyVariable) is { Length: > 0 } fromEnv ? fromEnv : null;

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
