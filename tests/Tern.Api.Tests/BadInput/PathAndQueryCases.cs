namespace Tern.Api.Tests.BadInput;

/// <summary>Bad values in every path placeholder and query parameter, percent-encoded as a client would send them
/// (HttpClient percent-encodes raw control characters itself; the raw-socket cases cover what it will not send).</summary>
public static class PathAndQueryCases
{
    /// <summary>Kestrel decodes the path before routing and refuses a request whose path decodes to a NUL.</summary>
    private const string KestrelRefusesNul = "Kestrel rejects a path that decodes to NUL before routing (bodiless 400)";

    /// <summary>Kestrel's request line limit (8 KB) answers 414 itself.</summary>
    private const string KestrelRefusesLongTarget = "Kestrel answers a request line over its 8 KB limit with a bodiless 414";

    private static readonly IReadOnlyList<(string Name, string Encoded)> PathValues =
    [
        ("blank", "%20"), ("space inside", "a%20b"), ("SOH", "%01"), ("LF", "%0A"), ("CRLF", "%0D%0A"), ("DEL", "%7F"),
        ("invalid UTF-8", "%FF"), ("overlong UTF-8 dot", "%C0%AE"), ("encoded lone surrogate", "%ED%A0%80"), ("e acute", "%C3%A9"),
        ("emoji", "%F0%9F%98%80"), ("RTL override", "%E2%80%AEabc"), ("BOM", "%EF%BB%BF"), ("zero-width space", "a%E2%80%8Bb"),
        ("dot dot", ".."), ("encoded dot dot", "%2E%2E"), ("encoded slash", "a%2Fb"), ("percent", "%25"), ("double encoded", "%2525"),
        ("star", "*"), ("colons", "a:b:c"), ("colon only", ":"), ("minus one", "-1"), ("zero", "0"), ("huge number", "99999999999999999999"),
        ("float", "1.5"), ("null", "null"), ("sql", "%27%20OR%201%3D1--"), ("html", "%3Cscript%3E"), ("upper case", "BAD-TARGET"),
        ("300 chars", new string('a', 300)), ("7000 chars", new string('b', 7000)), ("tilde", "~"), ("semicolon", "a;b"),
        ("broken escape", "%zz"), ("lone percent", "a%"), ("plus", "a+b"), ("windows device", "con"),
    ];

    public static IEnumerable<BadCase> PathParameters(CaseContext context)
    {
        foreach (var operation in context.Operations)
            foreach (var placeholder in operation.PathParameters)
            {
                foreach (var (name, encoded) in context.Sample(PathValues, 14))
                    yield return context.Valid("path parameters", operation, $"{{{placeholder}}}: {name}", context.Path(operation, placeholder, encoded));
                yield return context.Valid("path parameters", operation, $"{{{placeholder}}}: NUL", context.Path(operation, placeholder, "a%00b"))
                    with { KestrelLevel = KestrelRefusesNul };
                yield return context.Valid("path parameters", operation, $"{{{placeholder}}}: 9000 chars", context.Path(operation, placeholder, new string('c', 9000)))
                    with { KestrelLevel = KestrelRefusesLongTarget };
            }
    }

    private static readonly IReadOnlyList<(string Name, string Value)> QueryValues =
    [
        ("word", "abc"), ("float", "1.5"), ("minus", "-1"), ("int64", "99999999999"), ("empty", ""), ("SOH", "%01"),
        ("invalid UTF-8", "%FF"), ("broken escape", "%zz"), ("5000 chars", new string('q', 5000)), ("emoji", "%F0%9F%98%80"),
        ("true word", "TRUE"), ("exponent", "1e3"), ("spaces", "%20%201%20"), ("fullwidth digits", "%EF%BC%91"),
    ];

    /// <summary>Parameters the daemon reads from the query string even where the document does not list them.</summary>
    private static readonly string[] KnownNames = ["limit", "function", "tail", "since", "executionId", "qualifier", "follow"];

    public static IEnumerable<BadCase> Query(CaseContext context)
    {
        const string family = "query parameters";
        foreach (var operation in context.Operations)
        {
            var path = context.Path(operation);
            foreach (var parameter in operation.Query)
            {
                foreach (var (name, value) in QueryValues)
                    yield return context.Valid(family, operation, $"?{parameter.Name}: {name}", $"{path}?{parameter.Name}={value}");
                yield return context.Valid(family, operation, $"?{parameter.Name} repeated", $"{path}?{parameter.Name}=1&{parameter.Name}=2");
                yield return context.Valid(family, operation, $"?{parameter.Name} without value", $"{path}?{parameter.Name}");
            }
            // Undocumented names, and query strings that are odd as a whole.
            foreach (var name in context.Sample(KnownNames, 3))
            {
                var (valueName, value) = context.Sample(QueryValues, 1)[0];
                yield return context.Valid(family, operation, $"?{name}: {valueName}", $"{path}?{name}={value}");
            }
            foreach (var (name, query) in context.Sample(OddQueries, 3))
                yield return context.Valid(family, operation, name, $"{path}?{query}");
        }
    }

    private static readonly IReadOnlyList<(string Name, string Query)> OddQueries =
    [
        ("NUL name", "%00=1"), ("empty name", "=x"), ("bare names", "a&b&c"), ("same name thrice", "tail=1&tail=2&tail=3"),
        ("4000-char name", new string('k', 4000) + "=1"), ("only ampersands", "&&&"), ("hash inside", "a=%23b"),
        ("200 parameters", string.Join('&', Enumerable.Range(0, 200).Select(i => $"p{i}={i}"))), ("qualifier with NUL", "qualifier=a%00"),
        ("since not a time", "since=yesterday"), ("since out of range", "since=9999-99-99T99:99:99Z"), ("follow maybe", "follow=maybe"),
    ];
}
