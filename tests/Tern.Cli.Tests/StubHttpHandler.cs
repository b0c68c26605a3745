using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tern.Cli.Tests;

/// <summary>Stands in for the daemon: records each request (with its body read eagerly) and answers
/// with a canned response, or fails like a refused connection.</summary>
internal sealed class StubHttpHandler : HttpMessageHandler
{
    private readonly Func<HttpRequestMessage, HttpResponseMessage> _respond;

    public StubHttpHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) => _respond = respond;

    public List<RecordedRequest> Requests { get; } = [];

    public static StubHttpHandler Json(HttpStatusCode status, string body, string mediaType = "application/json") =>
        new(_ => new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) });

    public static StubHttpHandler Problem(HttpStatusCode status, string body) => Json(status, body, "application/problem+json");

    public static StubHttpHandler NoContent() => new(_ => new HttpResponseMessage(HttpStatusCode.NoContent));

    /// <summary>What SocketsHttpHandler throws when nothing listens on the port.</summary>
    public static StubHttpHandler Refused() => new(_ => throw new HttpRequestException(HttpRequestError.ConnectionError,
        "Connection refused (127.0.0.1:8080)", new SocketException((int)SocketError.ConnectionRefused)));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Add(new RecordedRequest(request.Method, request.RequestUri!, body, request.Content?.Headers.ContentType?.MediaType));
        return _respond(request);
    }
}
