using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tern.Api.Endpoints;
using Tern.Invocation.Logs;
using Tern.Storage.Logs;
using Tern.Storage.Sqlite;

namespace Tern.Api.Hosting;

/// <summary>The daemon's own request log: one JSON object per HTTP request, appended to
/// <c>{dataDir}/logs/requests.jsonl</c>: <c>time</c>, <c>method</c>, <c>path</c> (no query string), <c>status</c>,
/// <c>durationMs</c>, <c>executionId</c> (the X-Execution-Id response header, when there is one) and <c>traceId</c>
/// (X-Trace-Id, else the request's own id). Never bodies, never other headers (API keys), never secret values.
/// <para>A request only appends its line to a buffer (no allocation, no wake-up); one writer thread writes the buffer
/// out at most every <see cref="FlushInterval"/>, and sleeps while there is nothing to write. So a line reaches the file
/// within that interval; lines are dropped (not requests slowed) if the disk falls far behind.</para></summary>
public sealed class RequestLog : IHostedService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Bytes waiting for the writer; past this (the disk stalled) new lines are dropped.</summary>
    private const int MaxPendingBytes = 8 * 1024 * 1024;

    [ThreadStatic] private static LineBuilder? t_line;

    private readonly object _lock = new(); // Monitor: the writer waits on it
    private ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private ArrayBufferWriter<byte> _writing = new(64 * 1024);
    private bool _writerWaiting;
    private bool _stopping;
    private Thread? _writer;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RequestLog(string path) => Path = path;

    public string Path { get; }

    public void Write(HttpContext context, double durationMs)
    {
        var line = t_line ??= new LineBuilder();
        var bytes = line.Build(context, durationMs);
        lock (_lock)
        {
            if (_stopping || _pending.WrittenCount + bytes.Length > MaxPendingBytes) return;
            _pending.Write(bytes);
            if (_writerWaiting)
            {
                _writerWaiting = false;
                Monitor.Pulse(_lock);
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "tern-request-log" };
        _writer.Start();
        return Task.CompletedTask;
    }

    private void WriteLoop()
    {
        try
        {
            using var file = new FileStream(Path, new FileStreamOptions
            {
                Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite, BufferSize = 0,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            while (true)
            {
                bool last;
                lock (_lock)
                {
                    while (_pending.WrittenCount == 0 && !_stopping)
                    {
                        _writerWaiting = true;
                        Monitor.Wait(_lock);
                    }
                    (_pending, _writing) = (_writing, _pending);
                    last = _stopping;
                }
                try
                {
                    file.Write(_writing.WrittenSpan);
                }
                catch (IOException) { } // a full disk must not stop the daemon; the lines are lost
                _writing.ResetWrittenCount();
                if (_writing.Capacity > 1024 * 1024) _writing = new ArrayBufferWriter<byte>(64 * 1024);
                if (last) return;
                Thread.Sleep(FlushInterval); // let lines gather: one write and one wake-up per interval under load
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"tern: the request log {Path} cannot be written: {e.Message}");
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.Pulse(_lock);
        }
        if (_writer is not null) await _stopped.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Formats one line into a per-thread buffer (reused: no allocation per request).</summary>
    private sealed class LineBuilder
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(512);
        private readonly Utf8JsonWriter _json = new(Stream.Null, new JsonWriterOptions { SkipValidation = true });

        public ReadOnlySpan<byte> Build(HttpContext context, double durationMs)
        {
            _buffer.ResetWrittenCount();
            _json.Reset(_buffer);
            _json.WriteStartObject();
            _json.WriteString("time"u8, DateTimeOffset.UtcNow);
            _json.WriteString("method"u8, context.Request.Method);
            _json.WritePropertyName("path"u8);
            if (context.Request.PathBase.HasValue) _json.WriteStringValue(context.Request.PathBase + context.Request.Path);
            else _json.WriteStringValue(context.Request.Path.Value);
            _json.WriteNumber("status"u8, context.Response.StatusCode);
            _json.WriteNumber("durationMs"u8, Math.Round(durationMs, 3));
            var response = context.Response.Headers;
            if (response.TryGetValue(InvokeEndpoints.ExecutionIdHeader, out var executionId) && executionId.Count > 0 && executionId[0] is { Length: > 0 } id)
                _json.WriteString("executionId"u8, id);
            _json.WriteString("traceId"u8, TraceId(context));
            _json.WriteEndObject();
            _json.Flush();
            _buffer.Write("\n"u8);
            return _buffer.WrittenSpan;
        }

        private static string TraceId(HttpContext context) =>
            First(context.Response.Headers, InvokeEndpoints.TraceIdHeader) ?? First(context.Request.Headers, InvokeEndpoints.TraceIdHeader)
            ?? context.TraceIdentifier;

        private static string? First(IHeaderDictionary headers, string name) =>
            headers.TryGetValue(name, out var values) && values.Count > 0 && values[0] is { Length: > 0 and <= 128 } value ? value : null;
    }
}

/// <summary>Registers the request log (logs/requests.jsonl in the data directory).</summary>
internal static class LogServices
{
    public static IServiceCollection AddRequestLog(this IServiceCollection services, string dataDir)
    {
        services.AddSingleton(new RequestLog(System.IO.Path.Combine(dataDir, "logs", "requests.jsonl")));
        services.AddHostedService(sp => sp.GetRequiredService<RequestLog>());
        return services;
    }

    /// <summary>First in the pipeline, so the status it logs is the one the client got (after problem handling).</summary>
    public static IApplicationBuilder UseRequestLog(this IApplicationBuilder app)
    {
        var log = app.ApplicationServices.GetRequiredService<RequestLog>();
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            catch
            {
                if (!context.Response.HasStarted) context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                throw;
            }
            finally
            {
                log.Write(context, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        });
    }
}
