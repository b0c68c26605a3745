namespace Tern.Api.Tests.BadInput;

/// <summary>One generated request: which operation it aims at, what is wrong with it, and how to send it.</summary>
/// <param name="Route">The operation as the document names it ("POST /v1/functions"), for failure messages.</param>
/// <param name="Target">Path and query exactly as sent (already percent-encoded where it should be).</param>
public sealed record BadCase(string Family, string Route, string Mutation, HttpMethod Method, string Target)
{
    /// <summary>Made when the case is sent, so a megabyte body is not held for every case at once.</summary>
    public Func<HttpContent?>? Content { get; init; }

    public Action<HttpRequestMessage>? Headers { get; init; }

    /// <summary>The whole request as bytes on a socket, for what HttpClient refuses to send (a Content-Length that
    /// lies, broken chunking, a NUL in a header). Sent instead of Method/Target/Content.</summary>
    public byte[]? Raw { get; init; }

    /// <summary>With <see cref="Raw"/>: half-close the socket after sending, so the server sees the body end early.</summary>
    public bool HalfClose { get; init; }

    /// <summary>Why Kestrel answers this request itself before the app sees it (a malformed request line or header).
    /// Kestrel writes those responses without a body and has no hook to add one, so the problem-body rule is out of
    /// the daemon's reach for them: they must still be a 4xx, never a 5xx, and any body they have must be a problem.</summary>
    public string? KestrelLevel { get; init; }

    /// <summary>The client abandons the request (a half-close before the promised body): the server may close the
    /// connection without answering, which is the right outcome, not a failure.</summary>
    public bool MayGoUnanswered { get; init; }
}
