namespace Tern.Api.Tests.BadInput;

/// <summary>A valid body under the wrong Content-Type; methods and paths the document does not have.</summary>
public static class ContentTypeCases
{
    private static readonly string?[] ContentTypes =
    [
        null, "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data",
        "multipart/form-data; boundary=abc", "application/json; charset=utf-16", "application/json; charset=bogus", "application/json;;;",
        "garbage", "*/*", "application/problem+json", "application/json-patch+json", "text/event-stream", "application/octet-stream",
        "application/" + new string('x', 5000), "application/json; boundary=\"unbalanced",
    ];

    public static IEnumerable<BadCase> WrongContentTypes(CaseContext context)
    {
        foreach (var operation in context.WithBody)
        {
            var body = context.ValidBody(operation).ToJsonString();
            foreach (var contentType in ContentTypes)
                yield return context.Json("content types", operation, $"Content-Type: {Shorten(contentType)}", body, contentType);
            // Form content the JSON-only routes do not take, with a body that is a valid form.
            yield return context.Json("content types", operation, "urlencoded form body", "name=x&runtime=python&memoryMb=abc",
                "application/x-www-form-urlencoded");
            yield return context.Json("content types", operation, "urlencoded broken escapes", "a=%zz&%=%&" + new string('k', 3000) + "=1",
                "application/x-www-form-urlencoded");
        }
    }

    private static string Shorten(string? contentType) => contentType switch
    {
        null => "(none)",
        { Length: > 60 } longer => longer[..40] + $"... ({longer.Length} chars)",
        _ => contentType,
    };

    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "FOO"];

    private static readonly string[] UnknownPaths =
        ["/", "/v1", "/v1/", "/v2/functions", "/v1/nope", "/v1/functions/a/b/c/d", "/v1/functions/bad-target:nope", "/openapi/v2.json", "/healthz"];

    /// <summary>Methods a path does not document (405) and paths no route has (404): bodiless statuses the daemon
    /// turns into problems. Each also once with an Accept that does not name JSON.</summary>
    public static IEnumerable<BadCase> UndocumentedMethodsAndRoutes(CaseContext context)
    {
        const string family = "undocumented methods and routes";
        static void AcceptXml(HttpRequestMessage r) => r.Headers.TryAddWithoutValidation("Accept", "application/xml");
        foreach (var path in context.Operations.GroupBy(o => o.Path))
        {
            var documented = path.Select(o => o.Method).ToHashSet();
            var target = context.Path(path.First());
            foreach (var method in Methods.Where(m => !documented.Contains(m)))
            {
                var @case = new BadCase(family, $"{method} {path.Key}", "method not in the document", new HttpMethod(method), target)
                {
                    Content = method is "GET" or "DELETE" or "OPTIONS" or "TRACE" ? null : () => new StringContent("{}", null, "application/json"),
                };
                yield return @case;
                if (method == "PUT") yield return @case with { Mutation = "method not in the document, Accept: application/xml", Headers = AcceptXml };
            }
        }
        foreach (var path in UnknownPaths)
            foreach (var method in new[] { "GET", "POST" })
            {
                yield return new BadCase(family, $"{method} {path}", "no such route", new HttpMethod(method), path);
                yield return new BadCase(family, $"{method} {path}", "no such route, Accept: application/xml", new HttpMethod(method), path)
                    { Headers = AcceptXml };
            }
    }
}
