using Tern.Api.Problems;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Tern.Core.Executions;
using Tern.Core.Functions;
using Tern.Invocation.Logs;
using Tern.Storage;

namespace Tern.Api.Endpoints;

/// <summary>GET /v1/functions/{name}/logs: the lines handlers wrote (stdout/stderr, at most 64 KB of each per
/// execution, kept as long as the execution records). <c>?executionId=</c>, <c>?since=RFC3339</c>, <c>?tail=N</c>
/// (the newest N; default and maximum 10000). <c>?follow=true</c> or <c>Accept: text/event-stream</c>: a
/// server-sent event stream of new lines (<c>?tail=N</c> first sends the newest N stored ones), one <c>data:</c> JSON
/// line per event, a comment heartbeat every 15 s, until the client disconnects.</summary>
internal static class LogEndpoints
{
    public const int MaxLines = 10_000;
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    public static void MapLogEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/functions/{name}/logs", GetAsync).WithTags("Logs").WithName("GetFunctionLogs")
            .Produces<LogList>().Produces(StatusCodes.Status200OK, contentType: "text/event-stream").ProducesProblem(400).ProducesProblem(404);
    }

    private static async Task<IResult> GetAsync(string name, HttpContext context, IFunctionStore functions, ExecutionLogs logs, CancellationToken ct)
    {
        var query = context.Request.Query;
        if (!FunctionNames.IsValid(name) || await functions.GetAsync(name, ct) is null) throw new FunctionNotFoundException(name);
        string? executionId = query["executionId"].FirstOrDefault() is { Length: > 0 } id ? id : null;
        DateTimeOffset? since = null;
        if (query["since"].FirstOrDefault() is { Length: > 0 } sinceText)
        {
            if (!DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                return ProblemResults.BadRequest("Invalid since", "since must be an RFC 3339 time, for example 2026-01-02T15:04:05Z");
            since = parsed;
        }
        int? tail = null;
        if (query["tail"].FirstOrDefault() is { Length: > 0 } tailText)
        {
            if (!int.TryParse(tailText, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 0 or > MaxLines)
                return ProblemResults.BadRequest("Invalid tail", $"tail must be a whole number of lines from 0 to {MaxLines}");
            tail = n;
        }
        var follow = query["follow"].FirstOrDefault() is { } f
            ? f.Equals("true", StringComparison.OrdinalIgnoreCase) || f == "1"
            : context.Request.Headers.Accept.Any(a => a?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true);

        if (!follow)
        {
            var lines = await logs.QueryAsync(name, executionId, since, tail ?? MaxLines, ct);
            return Results.Json(new LogList(lines.Select(View).ToList()), LogJsonContext.Default.LogList);
        }

        await FollowAsync(context, logs, name, executionId, since, tail, ct);
        return Results.Empty;
    }

    private static async Task FollowAsync(HttpContext context, ExecutionLogs logs, string name, string? executionId, DateTimeOffset? since,
        int? tail, CancellationToken ct)
    {
        using var subscription = logs.Subscribe(name); // before the backlog query, so no line falls between the two
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await response.WriteAsync(": following " + name + "\n\n", ct);
            if (tail is > 0)
                foreach (var line in await logs.QueryAsync(name, executionId, since, tail.Value, ct))
                    await WriteEventAsync(response, line, ct);
            await response.Body.FlushAsync(ct);

            var reader = subscription.Reader;
            while (!ct.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                wait.CancelAfter(Heartbeat);
                bool ready;
                try
                {
                    ready = await reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    await response.WriteAsync(": heartbeat\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    continue;
                }
                if (!ready) break;
                while (reader.TryRead(out var line))
                {
                    if (executionId is not null && line.ExecutionId != executionId) continue;
                    await WriteEventAsync(response, line, ct);
                }
                await response.Body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { } // the client went away
        catch (IOException) { }
    }

    private static Task WriteEventAsync(HttpResponse response, LogLine line, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(View(line), LogJsonContext.Default.LogLineView);
        return response.WriteAsync("data: " + json + "\n\n", Encoding.UTF8, ct);
    }

    private static LogLineView View(LogLine line) => new(line.Time, line.ExecutionId, line.Stream, line.Text);
}

internal sealed record LogLineView(DateTimeOffset Time, string ExecutionId, string Stream, string Text);

internal sealed record LogList(List<LogLineView> Lines);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(LogList))]
[JsonSerializable(typeof(LogLineView))]
internal sealed partial class LogJsonContext : JsonSerializerContext;
