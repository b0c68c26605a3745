using Tern.Core.Functions;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tern.Cli.Client;

/// <summary>The daemon's HTTP API, as the CLI uses it. Responses come back as JsonNode so they can be
/// printed exactly as received; errors become <see cref="TernApiException"/> or <see cref="DaemonUnreachableException"/>.</summary>
internal sealed partial class TernClient(HttpClient http, string serverUrl) : IDisposable
{
    private readonly string _base = serverUrl.TrimEnd('/');

    public string ServerUrl { get; } = serverUrl;

    public Task<JsonNode> CreateAsync(FunctionSettings request, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Post, "/v1/functions", Body(request), ct);

    public Task<JsonNode> ListAsync(CancellationToken ct) => SendForJsonAsync(HttpMethod.Get, "/v1/functions", null, ct);

    public Task<JsonNode> GetAsync(string name, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Get, FunctionPath(name), null, ct);

    public Task<JsonNode> UpdateAsync(string name, FunctionSettings request, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Patch, FunctionPath(name), Body(request), ct);

    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Delete, FunctionPath(name), null, ct).ConfigureAwait(false);
    }

    /// <summary>POST NAME:invoke with an already validated JSON payload.</summary>
    public Task<JsonNode> InvokeAsync(string name, string payloadJson, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Post, FunctionPath(name) + ":invoke",
            new StringContent(payloadJson, Encoding.UTF8, "application/json"), ct);

    /// <summary>POST NAME:enqueue (202 {executionId, status}); the callback URL goes in X-Callback-Url.</summary>
    public Task<JsonNode> EnqueueAsync(string name, string payloadJson, string? callbackUrl, CancellationToken ct)
    {
        var content = new StringContent(payloadJson, Encoding.UTF8, "application/json");
        return SendForJsonAsync(HttpMethod.Post, FunctionPath(name) + ":enqueue", content, ct,
            callbackUrl is null ? null : request => request.Headers.Add(CallbackUrlHeader, callbackUrl));
    }

    /// <summary>GET /v1/executions/ID: one execution record.</summary>
    public Task<JsonNode> GetExecutionAsync(string executionId, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Get, "/v1/executions/" + Uri.EscapeDataString(executionId), null, ct);

    /// <summary>GET /v1/executions with the filters given: {"executions": [...], "nextCursor": ...}, newest first.</summary>
    public Task<JsonNode> ListExecutionsAsync(string? function, string? status, string? since, int? limit, string? cursor, CancellationToken ct)
    {
        var query = new List<string>();
        void Add(string name, string? value)
        {
            if (value is not null) query.Add(name + "=" + Uri.EscapeDataString(value));
        }
        Add("function", function);
        Add("status", status);
        Add("since", since);
        Add("limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("cursor", cursor);
        return SendForJsonAsync(HttpMethod.Get, "/v1/executions" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), null, ct);
    }

    /// <summary>GET /v1/functions/NAME/dead-letters[?limit=N]: {"deadLetters": [...]}.</summary>
    public Task<JsonNode> ListDeadLettersAsync(string name, int? limit, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Get, FunctionPath(name) + "/dead-letters" + (limit is { } n ? $"?limit={n}" : ""), null, ct);

    /// <summary>POST /v1/dead-letters/ID:redrive (202 with the requeued execution).</summary>
    public Task<JsonNode> RedriveAsync(string executionId, CancellationToken ct) =>
        SendForJsonAsync(HttpMethod.Post, "/v1/dead-letters/" + Uri.EscapeDataString(executionId) + ":redrive", null, ct);

    public void Dispose() => http.Dispose();

    public const string CallbackUrlHeader = "X-Callback-Url";

    private static string FunctionPath(string name) => "/v1/functions/" + Uri.EscapeDataString(name);

    /// <summary>Above this much base64, code goes up as a multipart file part: the daemon then streams it to disk
    /// instead of holding a base64 string in memory.</summary>
    private const int MultipartAboveChars = 1024 * 1024;

    private static HttpContent Body(FunctionSettings request)
    {
        if (request.Code is not { Length: > MultipartAboveChars } base64) return Json(request);
        var settings = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(request, CliJsonContext.Default.FunctionSettings),
            CliJsonContext.Default.FunctionSettings)!;
        settings.Code = null;
        var code = new ByteArrayContent(Convert.FromBase64String(base64));
        code.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent
        {
            { Json(settings), "function" },
            { code, "code", request.CodeFileName ?? "code.zip" },
        };
    }

    private static ByteArrayContent Json(FunctionSettings request)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(request, CliJsonContext.Default.FunctionSettings));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private async Task<JsonNode> SendForJsonAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct,
        Action<HttpRequestMessage>? configure = null)
    {
        using var response = await SendAsync(method, path, content, ct, configure).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        try
        {
            return JsonNode.Parse(body) ?? throw new JsonException("the body is JSON null");
        }
        catch (JsonException e)
        {
            throw new TernApiException(response.StatusCode,
                $"unexpected response from {ServerUrl}: {(int)response.StatusCode} with a body that is not JSON ({e.Message})");
        }
    }

    /// <summary>Sends and returns a successful response; any error status is turned into a one-line exception.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct,
        Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, _base + path) { Content = content };
        configure?.Invoke(request);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("application/problem+json");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (IsUnreachable(e))
        {
            throw new DaemonUnreachableException(ServerUrl, e);
        }

        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            throw new TernApiException(response.StatusCode, ProblemFormatter.Format(response.StatusCode, body));
        }
    }

    private static bool IsUnreachable(HttpRequestException e) =>
        e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
        || e.InnerException is System.Net.Sockets.SocketException;

    /// <summary>The default transport: no overall timeout, since an invocation may legitimately run long
    /// (the function's own timeout bounds it); Ctrl+C cancels instead.</summary>
    public static HttpClient CreateHttpClient(HttpMessageHandler? handler)
    {
        var client = handler is null
            ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }, disposeHandler: true)
            : new HttpClient(handler, disposeHandler: false);
        client.Timeout = Timeout.InfiniteTimeSpan;
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("tern-cli", "1.0"));
        return client;
    }
}
