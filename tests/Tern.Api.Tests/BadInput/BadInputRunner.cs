using System.Diagnostics;
using System.Net;
using System.Text;

namespace Tern.Api.Tests.BadInput;

/// <summary>Sends cases (a few at a time, as clients would) and checks each answer with <see cref="ResponseCheck"/>.</summary>
/// <param name="parallelism">Requests in flight at once.</param>
public sealed class BadInputRunner(Uri server, HttpClient client, int parallelism = 4)
{
    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(30);

    /// <summary>A client that sends header values as UTF-8 (the default refuses non-ASCII) and follows no redirects.</summary>
    public static HttpClient CreateClient(Uri server, Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? connect = null) =>
        new(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
            ConnectCallback = connect,
        })
        { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };

    public async Task<BadInputReport> RunAsync(string family, IReadOnlyList<BadCase> cases)
    {
        var outcomes = new BadInputReport.Outcome[cases.Count];
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, cases.Count), new ParallelOptions { MaxDegreeOfParallelism = parallelism },
            async (i, _) => outcomes[i] = await SendAsync(cases[i]));
        return new BadInputReport(family, outcomes, clock.Elapsed);
    }

    private async Task<BadInputReport.Outcome> SendAsync(BadCase @case)
    {
        int status;
        string? mediaType;
        string body;
        try
        {
            (status, mediaType, body) = @case.Raw is { } raw ? await SendRawAsync(raw, @case.HalfClose) : await SendHttpAsync(@case);
        }
        catch (OperationCanceledException)
        {
            // A hang is never the right answer, not even where a dropped connection would be.
            var hang = $"no answer within {PerRequest.TotalSeconds:F0} s (a hang)";
            return new BadInputReport.Outcome(@case, 0, hang, hang);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException or System.Net.Sockets.SocketException)
        {
            (status, mediaType, body) = (0, null, $"{e.GetType().Name}: {e.Message}");
        }
        return new BadInputReport.Outcome(@case, status, ResponseCheck.Violation(@case, status, mediaType, body), body);
    }

    private async Task<(int, string?, string)> SendHttpAsync(BadCase @case)
    {
        var uri = new Uri(server + @case.Target.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(@case.Method, uri) { Content = @case.Content?.Invoke() };
        @case.Headers?.Invoke(request);
        using var timeout = new CancellationTokenSource(PerRequest);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        // An event stream (logs followed) never ends: its status and type are the answer.
        var body = mediaType == "text/event-stream" ? "" : await response.Content.ReadAsStringAsync(timeout.Token);
        return ((int)response.StatusCode, mediaType, body);
    }

    private async Task<(int, string?, string)> SendRawAsync(byte[] raw, bool halfClose)
    {
        var response = await RawHttp.SendAsync(server, raw, halfClose, PerRequest);
        if (response is null) return (0, null, "(connection closed without a response)");
        var mediaType = response.Headers.TryGetValue("Content-Type", out var type) ? type.Split(';')[0].Trim() : null;
        return (response.Status, mediaType, response.Body);
    }
}
