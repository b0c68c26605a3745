using System.Text;

namespace Tern.Api.Tests.BadInput;

/// <summary>Framing HttpClient will not get wrong on purpose, sent over a bare socket: Content-Length that lies,
/// broken chunked bodies, and malformed request lines and headers (which Kestrel answers itself).</summary>
public static class RawCases
{
    private const string Family = "framing and Content-Length (raw socket)";
    private const string KestrelParser = "Kestrel's HTTP/1.1 parser rejects this before the app runs and answers with a bodiless 400";

    private static byte[] Request(string method, string target, string headers, byte[] body) =>
        [.. Encoding.Latin1.GetBytes($"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\r\n"), .. body];

    private static BadCase Case(ApiOperation operation, string mutation, byte[] raw, bool halfClose = false, bool mayGoUnanswered = false,
        string? kestrel = null) =>
        new(Family, operation.Route, mutation, new HttpMethod(operation.Method), "")
        {
            Raw = raw, HalfClose = halfClose, MayGoUnanswered = mayGoUnanswered, KestrelLevel = kestrel,
        };

    public static IEnumerable<BadCase> All(CaseContext context)
    {
        foreach (var operation in context.WithBody)
        {
            var method = operation.Method;
            var target = context.Path(operation);
            var body = Encoding.UTF8.GetBytes(context.ValidBody(operation).ToJsonString());
            const string json = "Content-Type: application/json\r\n";
            string Chunk(byte[] data) => $"{data.Length:x}\r\n{Encoding.UTF8.GetString(data)}\r\n";
            var chunked = json + "Transfer-Encoding: chunked\r\n";

            yield return Case(operation, "Content-Length longer than the body, then half-close",
                Request(method, target, json + $"Content-Length: {body.Length + 100}\r\n", body), halfClose: true, mayGoUnanswered: true);
            yield return Case(operation, "Content-Length shorter than the body",
                Request(method, target, json + $"Content-Length: {body.Length / 2}\r\n", body));
            yield return Case(operation, "body without any length", Request(method, target, json, body));
            yield return Case(operation, "Content-Length 100 MB, 10 bytes sent",
                Request(method, target, json + "Content-Length: 104857600\r\n", body[..Math.Min(10, body.Length)]));
            yield return Case(operation, "Content-Length 200 MB (over Kestrel's limit), 10 bytes sent",
                Request(method, target, json + "Content-Length: 209715200\r\n", body[..Math.Min(10, body.Length)]));
            yield return Case(operation, "chunked: size not hex", Request(method, target, chunked, Encoding.UTF8.GetBytes("zz\r\n{}\r\n0\r\n\r\n")));
            yield return Case(operation, "chunked: size overflows", Request(method, target, chunked,
                Encoding.UTF8.GetBytes("ffffffffffffffffff\r\n{}\r\n0\r\n\r\n")));
            yield return Case(operation, "chunked: cut short, then half-close",
                Request(method, target, chunked, Encoding.UTF8.GetBytes(Chunk(body)[..^4])), halfClose: true, mayGoUnanswered: true);
            yield return Case(operation, "chunked: garbage extension", Request(method, target, chunked,
                Encoding.UTF8.GetBytes($"{body.Length:x};ext=\"unterminated\r\n{Encoding.UTF8.GetString(body)}\r\n0\r\n\r\n")));
            yield return Case(operation, "chunked: no CRLF after data", Request(method, target, chunked,
                Encoding.UTF8.GetBytes($"{body.Length:x}\r\n{Encoding.UTF8.GetString(body)}XX0\r\n\r\n")));
            yield return Case(operation, "chunked: body split in 1-byte chunks", Request(method, target, chunked,
                Encoding.UTF8.GetBytes(string.Concat(body.Select(b => Chunk([b]))) + "0\r\n\r\n")));
        }

        // Malformed heads: one route each of the two kinds (a call, which runs on the socket thread, and a cold route).
        foreach (var operation in context.Operations.Where(o => o.Path.EndsWith(":invoke", StringComparison.Ordinal) || o.Route == "GET /v1/functions"))
        {
            var target = context.Path(operation);
            var method = operation.Method;
            var empty = "Content-Length: 0\r\n";
            foreach (var (name, headers) in new[]
                     {
                         ("NUL in a header value", "X-Trace-Id: a\0b\r\n"), ("bare CR in a header value", "X-Trace-Id: a\rb\r\n"),
                         ("header without colon", "X-Trace-Id\r\n"), ("obsolete line folding", "X-Trace-Id: a\r\n b\r\n"),
                         ("space before colon", "X-Trace-Id : a\r\n"), ("Content-Length not a number", "Content-Length: abc\r\n"),
                         ("Content-Length negative", "Content-Length: -1\r\n"), ("two different Content-Lengths", "Content-Length: 0\r\nContent-Length: 5\r\n"),
                         ("Transfer-Encoding not ending in chunked", "Transfer-Encoding: gzip\r\n"),
                     })
                yield return Case(operation, name, Request(method, target, (name.Contains("Length") || name.Contains("Transfer") ? "" : empty) + headers, []),
                    kestrel: KestrelParser);
            yield return Case(operation, "Content-Length and chunked together",
                Request(method, target, "Content-Length: 100\r\nTransfer-Encoding: chunked\r\n", "2\r\n{}\r\n0\r\n\r\n"u8.ToArray()));
            yield return Case(operation, "request line with two spaces", Encoding.Latin1.GetBytes($"{method}  {target} HTTP/1.1\r\nHost: x\r\n{empty}\r\n"),
                kestrel: KestrelParser);
            yield return Case(operation, "header name with parentheses", Request(method, target, empty + "X-Bad(): v\r\n", []));
            yield return Case(operation, "raw control character in the target", Encoding.Latin1.GetBytes($"{method} {target}\u0001 HTTP/1.1\r\nHost: x\r\n{empty}\r\n"));
            yield return Case(operation, "raw UTF-8 in the target", [.. Encoding.Latin1.GetBytes($"{method} {target}"), 0xc3, 0xa9,
                .. Encoding.Latin1.GetBytes($" HTTP/1.1\r\nHost: x\r\n{empty}\r\n")], kestrel: KestrelParser);
            yield return Case(operation, "HTTP/1.1 without Host", Encoding.Latin1.GetBytes($"{method} {target} HTTP/1.1\r\n{empty}\r\n"),
                kestrel: KestrelParser);
            yield return Case(operation, "HTTP/1.0 without Host", Encoding.Latin1.GetBytes($"{method} {target} HTTP/1.0\r\n{empty}\r\n"));
            yield return Case(operation, "absolute-form target", Encoding.Latin1.GetBytes($"{method} http://other.example{target} HTTP/1.1\r\nHost: other.example\r\n{empty}\r\n"));
        }
    }
}
