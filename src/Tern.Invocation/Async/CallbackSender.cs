using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tern.Core.Executions;

namespace Tern.Invocation.Async;

/// <summary>POSTs an async call's final record to its X-Callback-Url, retrying with backoff (0.5 s, 1 s, 2 s, 4 s).
/// Delivery is best effort across restarts: a callback still pending when the daemon stops is not resent.</summary>
public sealed partial class CallbackSender(ILogger<CallbackSender> logger) : BackgroundService
{
    private const int Attempts = 5;
    private readonly Channel<ExecutionRecord> _pending = Channel.CreateUnbounded<ExecutionRecord>();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

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
}
