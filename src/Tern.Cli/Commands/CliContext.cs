using System.CommandLine;
using Tern.Api.Hosting;
using Tern.Cli.Client;
using Tern.Cli.Output;

namespace Tern.Cli.Commands;

/// <summary>What every command needs from the outside world, injected so tests never touch the real
/// console, network or daemon.</summary>
internal sealed class CliContext
{
    public required TextWriter Stdout { get; init; }
    public required TextWriter Stderr { get; init; }
    /// <summary>Null when stdin is a terminal (nothing piped in).</summary>
    public TextReader? Stdin { get; init; }
    /// <summary>Null for the real network; a stub in tests.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }
    public required GlobalOptions Global { get; init; }
    public required Func<DaemonStartup, CancellationToken, Task> DaemonRunner { get; init; }

    public TernClient CreateClient(ParseResult result)
    {
        var http = TernClient.CreateHttpClient(HttpHandler);
        if (Global.GetApiKey(result) is { } key) http.DefaultRequestHeaders.Add(TernClient.ApiKeyHeader, key);
        return new(http, Global.GetServer(result));
    }

    public OutputWriter CreateOutput(ParseResult result) => new(Global.GetOutput(result), Stdout, Stderr);
}
