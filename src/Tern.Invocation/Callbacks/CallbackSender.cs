using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tern.Core.Executions;
using Tern.Invocation.Async;

namespace Tern.Invocation.Callbacks;

/// <summary>POSTs an async call's final record to its X-Callback-Url, retrying with backoff (0.5 s, 1 s, 2 s, 4 s).
/// Delivery is best effort across restarts: a callback still pending when the daemon stops is not resent. It connects
/// only to addresses <see cref="CallbackTargets"/> allows, checked as it connects (a name that now resolves to a
/// private address is refused, and not retried).</summary>
internal sealed partial class CallbackSender : BackgroundService
{
    private const int Attempts = 5;
    private readonly Channel<ExecutionRecord> _pending = Channel.CreateUnbounded<ExecutionRecord>();
    private readonly HttpClient _http;
    private readonly ILogger<CallbackSender> _logger;

    public CallbackSender(CallbackTargets targets, ILogger<CallbackSender> logger)
    {
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // a redirect could lead anywhere
            ConnectCallback = async (context, ct) =>
            {
                var allowed = await targets.AllowedAddressesAsync(context.DnsEndPoint.Host, ct).ConfigureAwait(false);
                if (allowed.Length == 0) throw new CallbackRefusedException($"'{context.DnsEndPoint.Host}' resolves to no address a callback may reach");
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct).ConfigureAwait(false);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { Timeout = TimeSpan.FromSeconds(10) };
    }

    public void Send(ExecutionRecord record) => _pending.Writer.TryWrite(record);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var record in _pending.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            _ = DeliverAsync(record, stoppingToken);
    }

    private async Task DeliverAsync(ExecutionRecord record, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        for (var attempt = 1; attempt <= Attempts && !ct.IsCancellationRequested; attempt++)
        {
            try
            {
                // A buffered body (with Content-Length), which simple receivers handle better than chunked encoding.
                using var body = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(ExecutionView.From(record), InvocationJsonContext.Default.ExecutionView));
                body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                using var response = await _http.PostAsync(record.CallbackUrl, body, ct).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return;
                LogAttemptFailed(record.ExecutionId, attempt, $"HTTP {(int)response.StatusCode}");
            }
            catch (HttpRequestException e) when (e.InnerException is CallbackRefusedException refused)
            {
                LogRefused(record.ExecutionId, refused.Message);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                if (ct.IsCancellationRequested) return;
                LogAttemptFailed(record.ExecutionId, attempt, e.Message);
            }
            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay *= 2;
        }
        LogGaveUp(record.ExecutionId, record.CallbackUrl!);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 410, Level = LogLevel.Warning, Message = "callback for {ExecutionId} failed (attempt {Attempt}): {Reason}")]
    private partial void LogAttemptFailed(string executionId, int attempt, string reason);

    [LoggerMessage(EventId = 411, Level = LogLevel.Error, Message = "gave up calling back {Url} for {ExecutionId}")]
    private partial void LogGaveUp(string executionId, string url);

    [LoggerMessage(EventId = 412, Level = LogLevel.Warning, Message = "callback for {ExecutionId} refused: {Reason}")]
    private partial void LogRefused(string executionId, string reason);

    private sealed class CallbackRefusedException(string message) : IOException(message);
}
