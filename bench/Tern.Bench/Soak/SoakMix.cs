using System.Net.Http.Headers;

namespace Tern.Bench.Soak;

/// <summary>The calls a soak run makes, in a fixed proportion: sync calls to persistent Python and Go workers, sync
/// process-mode Python (a new process per call), and async enqueues (which run later, on the dispatcher).</summary>
public sealed class SoakMix
{
    public sealed record Kind(string Name, int Weight, string Path, bool Async);

    public static readonly IReadOnlyList<Kind> Kinds =
    [
        new("sync-python-persistent", 35, "/v1/functions/soak-py:invoke", false),
        new("sync-go-persistent", 35, "/v1/functions/soak-go:invoke", false),
        new("sync-python-process", 10, "/v1/functions/soak-script:invoke", false),
        new("async-python-persistent", 10, "/v1/functions/soak-py:enqueue", true),
        new("async-go-persistent", 10, "/v1/functions/soak-go:enqueue", true),
    ];

    private static readonly int TotalWeight = Kinds.Sum(k => k.Weight);

    /// <summary>The functions the mix calls, registered with default settings.</summary>
    public static IEnumerable<object> Functions(string goEchoBinary)
    {
        const string echo = "def handler(event, context):\n    return event\n";
        const string script = "import json, sys\nprint(json.dumps(json.load(open(sys.argv[1]))))\n";
        yield return new { name = "soak-py", runtime = "python", mode = "persistent", handler = "echo.handler", codeFileName = "echo.py", code = DaemonProcess.Base64(echo) };
        yield return new { name = "soak-script", runtime = "python", codeFileName = "main.py", code = DaemonProcess.Base64(script) };
        yield return new
        {
            name = "soak-go", runtime = "go", mode = "persistent", handler = "bootstrap", codeFileName = "bootstrap",
            code = Convert.ToBase64String(File.ReadAllBytes(goEchoBinary)),
        };
    }

    /// <summary>The kind of the n-th call: a deterministic spread (a multiplicative hash of n), so every run and every
    /// interval sees the same proportions without a shared random generator.</summary>
    public static Kind For(long n)
    {
        var slot = (int)((ulong)(n * 2654435761L) % (ulong)TotalWeight);
        foreach (var kind in Kinds)
        {
            if (slot < kind.Weight) return kind;
            slot -= kind.Weight;
        }
        return Kinds[0];
    }

    public static HttpRequestMessage Request(Kind kind, long n)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, kind.Path)
        {
            Content = new StringContent($"{{\"n\":{n},\"pad\":\"soak\"}}"),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return request;
    }
}
