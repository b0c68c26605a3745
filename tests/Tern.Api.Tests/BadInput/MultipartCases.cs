using System.Text;

namespace Tern.Api.Tests.BadInput;

/// <summary>Broken multipart/form-data for the operations whose document says they take it: no boundary, the wrong
/// one, cut short, parts over the limits, parts without names, bad JSON in the function part.</summary>
public static class MultipartCases
{
    private const string Boundary = "tern-bad-input-boundary";
    private const string Code = "def handler(event, context):\n    return event\n";

    private static string Part(string headers, string body) => $"--{Boundary}\r\n{headers}\r\n\r\n{body}\r\n";

    private static string Field(string name, string value) => Part($"Content-Disposition: form-data; name=\"{name}\"", value);

    private static string File(string fileName, string content) =>
        Part($"Content-Disposition: form-data; name=\"code\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream", content);

    private static string End => $"--{Boundary}--\r\n";

    private static IEnumerable<(string Name, string Body, string ContentType)> Forms(string settings)
    {
        var ok = $"multipart/form-data; boundary={Boundary}";
        var valid = Field("function", settings) + File("app.py", Code);
        yield return ("no boundary parameter", valid + End, "multipart/form-data");
        yield return ("empty boundary parameter", valid + End, "multipart/form-data; boundary=");
        yield return ("wrong boundary", valid + End, "multipart/form-data; boundary=something-else");
        yield return ("boundary over 70 chars", valid + End, "multipart/form-data; boundary=" + new string('b', 100));
        yield return ("unbalanced quote in boundary", valid + End, "multipart/form-data; boundary=\"abc");
        yield return ("truncated: no closing boundary", valid, ok);
        yield return ("truncated inside a part", valid[..(valid.Length / 2)], ok);
        yield return ("empty body", "", ok);
        yield return ("closing boundary only", End, ok);
        yield return ("garbage instead of parts", "this is not multipart at all", ok);
        yield return ("function part not JSON", Field("function", "{not json") + File("app.py", Code) + End, ok);
        yield return ("function part null", Field("function", "null") + File("app.py", Code) + End, ok);
        yield return ("function part an array", Field("function", "[1,2]") + File("app.py", Code) + End, ok);
        yield return ("function part unknown field", Field("function", "{\"bogus\":1}") + File("app.py", Code) + End, ok);
        yield return ("function part deep", Field("function", BadValues.Nested("[", "]", 5000)) + End, ok);
        yield return ("function part over 1 MB", Field("function", "{\"handler\":\"" + new string('h', 1100 * 1024) + "\"}") + End, ok);
        yield return ("2000 fields", string.Concat(Enumerable.Range(0, 2000).Select(i => Field($"f{i}", "v"))) + End, ok);
        yield return ("part without Content-Disposition", Part("Content-Type: text/plain", "x") + End, ok);
        yield return ("garbage part header", Part("garbage header line", "x") + End, ok);
        yield return ("part header without end", $"--{Boundary}\r\nContent-Disposition: form-data; name=\"function\"", ok);
        yield return ("20 KB part header", Part("Content-Disposition: form-data; name=\"" + new string('n', 20_000) + "\"", "x") + End, ok);
        yield return ("file name with control characters", Field("function", settings) + File("a\u0001b\u007f.py", Code) + End, ok);
        yield return ("file name traversal", Field("function", settings) + File("../../../etc/cron.d/x", Code) + End, ok);
        yield return ("file name 5000 chars", Field("function", settings) + File(new string('f', 5000) + ".py", Code) + End, ok);
        yield return ("empty code part", Field("function", settings) + File("app.py", "") + End, ok);
        yield return ("broken zip code part", Field("function", settings) + File("code.zip", "PK\u0003\u0004garbage") + End, ok);
        yield return ("two code parts", Field("function", settings) + File("a.py", Code) + File("b.py", Code) + End, ok);
        yield return ("fields only, odd values", Field("name", "\u0000") + Field("runtime", new string('r', 3000)) + Field("handler", "") + End, ok);
        yield return ("nested multipart", Part($"Content-Disposition: form-data; name=\"function\"\r\nContent-Type: multipart/mixed; boundary={Boundary}x",
            $"--{Boundary}x\r\n\r\ninner\r\n--{Boundary}x--") + End, ok);
        yield return ("multipart/mixed instead of form-data", valid + End, $"multipart/mixed; boundary={Boundary}");
    }

    public static IEnumerable<BadCase> All(CaseContext context)
    {
        foreach (var operation in context.WithBody.Where(o => o.Body!.AcceptsMultipart))
        {
            var settings = context.ValidBody(operation);
            settings.Remove("code");
            foreach (var (name, body, contentType) in Forms(settings.ToJsonString()))
                yield return context.Bytes("broken multipart", operation, name, Encoding.UTF8.GetBytes(body), contentType);
        }
    }
}
