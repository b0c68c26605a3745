namespace Tern.Api.Tests.BadInput;

/// <summary>Bad values in the headers the daemon reads (X-Trace-Id, traceparent, Idempotency-Key, X-Callback-Url,
/// X-Timeout-Ms, Accept) and in general ones. The call routes get every mutation; the others a seeded sample. Callback
/// hosts are under .invalid (RFC 2606), so a check that wrongly passed could still not call anywhere.</summary>
public static class HeaderCases
{
    private const string KestrelHeaderLimit = "Kestrel answers headers over its 32 KB or 100-header limits with a bodiless 431";
    private const string KestrelHost = "Kestrel validates Host before routing and answers a bad one with a bodiless 400";

    /// <summary>Content-* headers belong to the content; a request without a body has none to carry them.</summary>
    private static (string Name, Action<HttpRequestMessage> Apply, string? KestrelLevel) Set(string header, string name, params string[] values) =>
        ($"{header}: {name}", r =>
        {
            var headers = header.StartsWith("Content-", StringComparison.Ordinal) ? r.Content?.Headers : (System.Net.Http.Headers.HttpHeaders)r.Headers;
            headers?.Remove(header);
            foreach (var value in values) headers?.TryAddWithoutValidation(header, value);
        }, null);

    private static readonly string ValidTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    public static readonly IReadOnlyList<(string Name, Action<HttpRequestMessage> Apply, string? KestrelLevel)> Mutations =
    [
        Set("X-Trace-Id", "empty", ""), Set("X-Trace-Id", "blank", " "), Set("X-Trace-Id", "space inside", "a b"),
        Set("X-Trace-Id", "SOH", "a\u0001b"), Set("X-Trace-Id", "DEL", "a\u007fb"), Set("X-Trace-Id", "tab", "a\tb"),
        Set("X-Trace-Id", "129 chars", new string('t', 129)), Set("X-Trace-Id", "10 KB", new string('t', 10_240)),
        Set("X-Trace-Id", "UTF-8", "tr\u00e4ce-\u6f22"), Set("X-Trace-Id", "two values", "a", "b"),
        Set("traceparent", "garbage", "garbage"), Set("traceparent", "empty", ""), Set("traceparent", "all-zero ids",
            "00-" + new string('0', 32) + "-" + new string('0', 16) + "-01"), Set("traceparent", "version ff", "ff" + ValidTraceParent[2..]),
        Set("traceparent", "not hex", "00-" + new string('z', 32) + "-" + new string('z', 16) + "-01"),
        Set("traceparent", "trailing fields", ValidTraceParent + "-extra"), Set("traceparent", "10 KB", new string('0', 10_240)),
        Set("traceparent", "SOH", "00-\u0001"), Set("traceparent", "two values", ValidTraceParent, ValidTraceParent),
        Set("tracestate", "garbage", "===,,,=\u0001"),
        Set("Idempotency-Key", "empty", ""), Set("Idempotency-Key", "blank", "   "), Set("Idempotency-Key", "201 chars", new string('i', 201)),
        Set("Idempotency-Key", "SOH", "k\u0001"), Set("Idempotency-Key", "UTF-8", "cl\u00e9"), Set("Idempotency-Key", "two values", "a", "b"),
        Set("Idempotency-Key", "10 KB", new string('i', 10_240)), Set("Idempotency-Key", "tab inside", "a\tb"),
        Set("X-Callback-Url", "not a URL", "not a url"), Set("X-Callback-Url", "empty", ""), Set("X-Callback-Url", "scheme only", "http://"),
        Set("X-Callback-Url", "file", "file:///etc/passwd"), Set("X-Callback-Url", "ftp", "ftp://example.invalid/"),
        Set("X-Callback-Url", "javascript", "javascript:alert(1)"), Set("X-Callback-Url", "loopback", "http://127.0.0.1:1/"),
        Set("X-Callback-Url", "IPv6 loopback", "http://[::1]/"), Set("X-Callback-Url", "metadata service", "http://169.254.169.254/latest/meta-data"),
        Set("X-Callback-Url", "credentials", "http://user:pass@example.invalid/"), Set("X-Callback-Url", "300-char host", "http://" + new string('a', 300) + ".invalid/"),
        Set("X-Callback-Url", "70-char label", "http://" + new string('a', 70) + ".invalid/"), Set("X-Callback-Url", "space in host", "http://exa mple.com/"),
        Set("X-Callback-Url", "percent NUL host", "http://%00/"), Set("X-Callback-Url", "unicode host", "http://\u00e9\u00e9.invalid/"),
        Set("X-Callback-Url", "bad IPv6", "http://[zz]/"), Set("X-Callback-Url", "two values", "http://a.invalid/", "http://b.invalid/"),
        Set("X-Callback-Url", "unresolvable", "http://nothing.example.invalid/"), Set("X-Callback-Url", "hex IPv4", "http://0x7f000001/"),
        Set("X-Callback-Url", "decimal IPv4", "http://2130706433/"), Set("X-Callback-Url", "port out of range", "http://example.invalid:99999/"),
        Set("X-Callback-Url", "10 KB", "http://nothing.invalid/" + new string('p', 10_240)), Set("X-Callback-Url", "relative", "/v1/functions"),
        Set("X-Callback-Url", "host over 255 chars", "http://" + string.Join('.', Enumerable.Repeat(new string('h', 60), 5)) + ".invalid/"),
        Set("X-Timeout-Ms", "word", "abc"), Set("X-Timeout-Ms", "minus one", "-1"), Set("X-Timeout-Ms", "zero", "0"),
        Set("X-Timeout-Ms", "float", "1.5"), Set("X-Timeout-Ms", "int64", "99999999999"), Set("X-Timeout-Ms", "empty", ""),
        Set("X-Timeout-Ms", "space padded", " 5"), Set("X-Timeout-Ms", "two values", "5", "6"), Set("X-Timeout-Ms", "arabic digit", "\u0663"),
        Set("Accept", "xml", "application/xml"), Set("Accept", "garbage", "garbage"), Set("Accept", "nothing acceptable", "*/*;q=0"),
        Set("Accept", "bad q", "application/json;q=abc"), Set("Accept", "event stream", "text/event-stream"),
        Set("Accept", "5 KB", string.Join(',', Enumerable.Repeat("application/x-a", 330))), Set("Accept", "problem xml", "application/problem+xml"),
        Set("Accept-Charset", "bogus", "bogus"), Set("Accept-Encoding", "bogus", "bogus;q=2"),
        Set("Content-Encoding", "gzip body that is not", "gzip"), Set("Content-Encoding", "br", "br"),
        Set("Expect", "100-continue", "100-continue"), Set("Range", "garbage", "bytes=abc"), Set("If-None-Match", "garbage", "\"unterminated"),
        Set("Cookie", "16 KB", "c=" + new string('c', 16_384)), Set("X-API-Key", "ignored garbage", "\u0001garbage"),
        Set("Authorization", "wrong scheme", "Basic dXNlcjpwYXNz"), Set("Origin", "null", "null"),
        Set("X-Forwarded-For", "garbage", "not-an-ip, ::zz"), Set("Forwarded", "garbage", "for=\"[::zz]\";proto=gopher"),
        ("30 KB custom header", r => r.Headers.TryAddWithoutValidation("X-Filler", new string('f', 30_000)), null),
        ("40 KB of headers", r => r.Headers.TryAddWithoutValidation("X-Filler", new string('f', 40_000)), KestrelHeaderLimit),
        ("150 headers", r =>
        {
            for (var i = 0; i < 150; i++) r.Headers.TryAddWithoutValidation($"X-Many-{i}", "v");
        }, KestrelHeaderLimit),
        ("Host: empty", r => r.Headers.Host = "", null),
        ("Host: garbage", r => r.Headers.TryAddWithoutValidation("Host", "bad host!"), KestrelHost),
    ];

    /// <summary>Sent to every operation: how a problem is written must not depend on what the client accepts, and
    /// the headers every route reads or logs must not break any of them.</summary>
    private static readonly string[] Everywhere =
        ["Accept: xml", "Accept: garbage", "Accept: nothing acceptable", "Accept: problem xml", "X-Trace-Id: SOH", "traceparent: garbage"];

    public static IEnumerable<BadCase> All(CaseContext context)
    {
        var everywhere = Mutations.Where(m => Everywhere.Contains(m.Name)).ToList();
        var others = Mutations.Where(m => !Everywhere.Contains(m.Name)).ToList();
        foreach (var operation in context.Operations)
        {
            var isCall = operation.Path.EndsWith(":invoke", StringComparison.Ordinal) || operation.Path.EndsWith(":enqueue", StringComparison.Ordinal);
            foreach (var (name, apply, kestrel) in isCall ? Mutations : [.. everywhere, .. context.Sample(others, 8)])
                yield return context.Valid("headers", operation, name, headers: apply) with { KestrelLevel = kestrel };
        }
    }
}
