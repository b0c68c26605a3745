using System.Net;

namespace Tern.Cli.Client;

/// <summary>The daemon answered with an error status; the message is already the one-line summary.</summary>
internal sealed class TernApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}
