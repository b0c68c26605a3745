using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
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
/// Requests only queue a line; one background writer appends them, buffered, flushing whenever it runs out of work.</summary>
public sealed class RequestLog : IHostedService
{
    /// <summary>Lines waiting for the writer; past this (the disk stalled) new lines are dropped, not requests slowed.</summary>
    private const int MaxPending = 16 * 1024;

    private readonly Channel<string> _lines = Channel.CreateBounded<string>(
        new BoundedChannelOptions(MaxPending) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private Task? _writer;

    public RequestLog(string path) => Path = path;

    public string Path { get; }

    public void Write(HttpContext context, double durationMs)
    {
        var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow);
            json.WriteString("method", context.Request.Method);
            json.WriteString("path", context.Request.PathBase + context.Request.Path);
            json.WriteNumber("status", context.Response.StatusCode);
            json.WriteNumber("durationMs", Math.Round(durationMs, 3));
            if (context.Response.Headers[InvokeEndpoints.ExecutionIdHeader].FirstOrDefault() is { Length: > 0 } executionId)
                json.WriteString("executionId", executionId);
            var traceId = context.Response.Headers[InvokeEndpoints.TraceIdHeader].FirstOrDefault() is { Length: > 0 and <= 128 } t ? t
                : context.Request.Headers[InvokeEndpoints.TraceIdHeader].FirstOrDefault() is { Length: > 0 and <= 128 } r ? r
                : context.TraceIdentifier;
            json.WriteString("traceId", traceId);
            json.WriteEndObject();
        }
        _lines.Writer.TryWrite(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _writer = Task.Run(WriteLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task WriteLoopAsync()
    {
        await using var file = new FileStream(Path, new FileStreamOptions
        {
            Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite, BufferSize = 0,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        await using var writer = new StreamWriter(file, new UTF8Encoding(false), 64 * 1024);
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            try
            {
                while (reader.TryRead(out var line)) await writer.WriteAsync(line + "\n").ConfigureAwait(false);
                await writer.FlushAsync().ConfigureAwait(false);
            }
            catch (IOException) { } // a full disk must not stop the daemon; the lines are lost
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _lines.Writer.TryComplete();
        if (_writer is not null) await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Registers execution logs (capture, store, follow) and the request log.</summary>
internal static class LogServices
{
    public static IServiceCollection AddTernLogs(this IServiceCollection services, string dataDir)
    {
        services.AddSingleton<ILogStore>(sp => new SqliteLogStore(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<ExecutionLogs>();
        services.AddHostedService(sp => sp.GetRequiredService<ExecutionLogs>());
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
