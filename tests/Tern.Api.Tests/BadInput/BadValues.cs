using System.Text.Json;

namespace Tern.Api.Tests.BadInput;

/// <summary>The catalogues of wrong values, as raw JSON text (so values a JSON DOM cannot hold are possible).</summary>
public static class BadValues
{
    public const int Huge = 1024 * 1024;
    public const int Large = 64 * 1024;

    /// <summary>A JSON string literal (escaped as a serializer would).</summary>
    public static string Str(string value) => JsonSerializer.Serialize(value);

    public static string Nested(string open, string close, int depth, string inner = "1") =>
        string.Concat(Enumerable.Repeat(open, depth)) + inner + string.Concat(Enumerable.Repeat(close, depth));

    public static IReadOnlyList<(string Name, string Json)> WrongTypes(PropertyKind kind) => kind switch
    {
        PropertyKind.String => [("number", "123"), ("true", "true"), ("object", "{}"), ("array", "[]"), ("array of string", "[\"x\"]"),
            ("float", "1.5"), ("object with field", "{\"a\":\"b\"}")],
        PropertyKind.Integer => [("word", "\"abc\""), ("true", "true"), ("object", "{}"), ("array", "[]"), ("float", "1.5"),
            ("1e400", "1e400"), ("int32 max + 1", "2147483648"), ("int32 min - 1", "-2147483649"), ("digits then text", "\"12abc\""),
            ("space padded", "\" 12\""), ("hex", "\"0x10\""), ("fullwidth digits", "\"１２８\""), ("exponent", "1e2"), ("NaN text", "\"NaN\""),
            ("Infinity text", "\"Infinity\""), ("huge digits", new string('9', 400))],
        PropertyKind.Boolean => [("yes", "\"yes\""), ("one", "1"), ("zero", "0"), ("string true", "\"true\""), ("object", "{}"), ("array", "[]")],
        PropertyKind.StringMap => [("string", "\"A=b\""), ("number", "1"), ("array", "[]"), ("array of string", "[\"A\"]"),
            ("number value", "{\"K\":1}"), ("null value", "{\"K\":null}"), ("object value", "{\"K\":{}}"), ("array value", "{\"K\":[\"v\"]}"),
            ("bool value", "{\"K\":true}")],
        _ => [],
    };

    /// <summary>Nulls, empties, extremes and huge values. <paramref name="huge"/> adds a 1 MB one (sampled, to keep the
    /// run short: the 64 KB one is sent for every property).</summary>
    public static IReadOnlyList<(string Name, string Json)> Extremes(PropertyKind kind, bool huge)
    {
        var values = new List<(string, string)> { ("null", "null"), ("nested arrays x50", Nested("[", "]", 50)) };
        if (huge) values.Add(("1 MB string", Str(new string('h', Huge))));
        values.AddRange(kind switch
        {
            PropertyKind.String => [("empty", "\"\""), ("blank", "\"   \""), ("64 KB string", Str(new string('l', Large)))],
            PropertyKind.Integer => [("zero", "0"), ("minus one", "-1"), ("int32 max", "2147483647"), ("int32 min", "-2147483648"),
                ("int64 max", "9223372036854775807"), ("1e308", "1e308"), ("minus zero", "-0")],
            PropertyKind.StringMap => [("empty", "{}"), ("300 entries", "{" + string.Join(',', Enumerable.Range(0, 300).Select(i => $"\"K{i}\":\"v\"")) + "}"),
                ("64 KB key", "{" + Str(new string('K', Large)) + ":\"v\"}"), ("64 KB value", "{\"K\":" + Str(new string('v', Large)) + "}"),
                ("empty key", "{\"\":\"v\"}")],
            PropertyKind.Any => [("empty string", "\"\""), ("64 KB string", Str(new string('l', Large))), ("10000 element array",
                "[" + string.Join(',', Enumerable.Repeat("0", 10_000)) + "]")],
            _ => [],
        });
        return values;
    }

    /// <summary>Strings that are valid JSON but odd text: control characters, bidi and zero-width marks, lone
    /// surrogates (as escapes), normalisation traps, and the usual injection probes.</summary>
    public static readonly IReadOnlyList<(string Name, string Json)> OddStrings =
    [
        ("NUL", "\"\\u0000\""), ("NUL inside", "\"a\\u0000b\""), ("SOH", "\"a\\u0001b\""), ("unit separator", "\"\\u001f\""),
        ("tab CR LF", "\"a\\t\\r\\nb\""), ("DEL", "\"\\u007f\""), ("NEL", "\"\\u0085\""), ("line separators", "\"\\u2028\\u2029\""),
        ("RTL override", "\"\\u202eabc\""), ("BOM", "\"\\ufeffabc\""), ("lone high surrogate", "\"\\ud800\""),
        ("lone low surrogate", "\"\\udc00x\""), ("swapped surrogates", "\"\\udc00\\ud800\""), ("emoji", "\"\\ud83d\\ude00\""),
        ("combining accent", "\"e\\u0301\""), ("zero-width space", "\"a\\u200bb\""), ("fullwidth", Str("ｆｕｎｃ")), ("dotted I", Str("İı")),
        ("ohm sign", Str("Ω")), ("path traversal", Str("../../etc/passwd")), ("percent NUL", Str("%00")), ("format string", Str("%s%n{0}")),
        ("jndi", Str("${jndi:ldap://x/a}")), ("sql", Str("'; DROP TABLE functions; --")), ("html", Str("<script>alert(1)</script>")),
        ("5000 chars", Str(new string('n', 5000))),
    ];

    /// <summary>Whole bodies that are not JSON (or not one JSON value), as bytes.</summary>
    public static readonly IReadOnlyList<(string Name, byte[] Body)> InvalidJson =
    [
        .. new (string, string)[]
        {
            ("open brace", "{"), ("close brace", "}"), ("missing value", "{\"a\":}"), ("trailing comma", "{\"a\":1,}"),
            ("array trailing comma", "[1,]"), ("single quotes", "{'a':1}"), ("bare key", "{a:1}"), ("comment after", "{\"a\":1}/*c*/"),
            ("comment before", "// c\n{}"), ("NaN", "{\"a\":NaN}"), ("Infinity", "{\"a\":Infinity}"), ("garbage after", "{\"a\":1}garbage"),
            ("two objects", "{}{}"), ("whitespace only", "   \n\t "), ("unterminated string", "{\"a\":\"abc"), ("raw tab in string", "{\"a\":\"a\tb\"}"),
            ("raw control in string", "{\"a\":\"a\u0001b\"}"), ("bad escape", "{\"a\":\"\\u12\"}"), ("bad escape letter", "{\"a\":\"\\q\"}"),
            ("nul literal", "nul"), ("tru literal", "tru"), ("1e99999", "{\"a\":1e99999}"), ("minus alone", "{\"a\":-}"),
            ("leading zero", "{\"a\":01}"), ("leading dot", "{\"a\":.5}"), ("plus sign", "{\"a\":+1}"), ("missing colon", "{\"a\" 1}"),
            ("missing comma", "{\"a\":1 \"b\":2}"), ("unclosed array", "[\"unclosed\""), ("bracket mismatch", "{\"a\":[}"),
            ("unclosed deep", Nested("[", "", 1000)), ("unclosed deep 100k", Nested("[", "", 100_000)),
        }.Select(t => (t.Item1, System.Text.Encoding.UTF8.GetBytes(t.Item2))),
        ("empty", []),
        ("invalid UTF-8", [0xff, 0xfe, 0xfd]),
        ("invalid UTF-8 in string", [.. "{\"a\":\""u8, 0xc3, 0x28, .. "\"}"u8]),
        ("overlong UTF-8", [.. "{\"a\":\""u8, 0xc0, 0xaf, .. "\"}"u8]),
        ("UTF-8 BOM", [0xef, 0xbb, 0xbf, .. "{}"u8]),
        ("UTF-16 LE with BOM", [0xff, 0xfe, (byte)'{', 0, (byte)'}', 0]),
        ("NUL bytes", [0, 0, 0, 0]),
    ];

    /// <summary>Depth bombs at the top of a body.</summary>
    public static readonly IReadOnlyList<(string Name, string Json)> DeepBodies =
    [
        ("arrays depth 65", Nested("[", "]", 65)), ("arrays depth 129", Nested("[", "]", 129)), ("arrays depth 10000", Nested("[", "]", 10_000)),
        ("objects depth 65", Nested("{\"a\":", "}", 65)), ("objects depth 129", Nested("{\"a\":", "}", 129)),
        ("objects depth 10000", Nested("{\"a\":", "}", 10_000)), ("arrays depth 100000", Nested("[", "]", 100_000)),
    ];

    /// <summary>Depths for a value inside a body: at, just under and just over the 64 and 128 limits.</summary>
    public static readonly int[] NestedDepths = [63, 64, 65, 126, 127, 128, 129, 1000];
}
