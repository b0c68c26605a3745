using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Tern.Api.Hosting;

/// <summary>How the daemon keeps a warm call to two wake-ups: the HTTP request is handled on the socket event thread
/// that read it, and the worker's answer completes the call on the event thread that read it, with no hop through
/// the thread pool in between. On the small paravirtual machines Tern targets each hop cost more CPU than the
/// request's own work (docs/hot-path.md).
/// <para>The price is that code on those threads must never block. Only the invoke and enqueue routes run there, and
/// they are non-blocking; every other route (uploads, zip extraction, list queries) is moved to the thread pool
/// first by <see cref="UseThreadPoolForColdRoutes"/>.</para></summary>
internal static class InlineIo
{
    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Socket completions run on the event threads. .NET reads this switch once, when the first socket is
    /// made, and only from the environment: so it is set here, at the start of `tern daemon`, unless the operator set
    /// it (0 turns it off).</summary>
    public static void PreferInlineSocketCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
    }

    /// <summary>Kestrel runs request handlers on the thread that read the request.</summary>
    public static void UseInlineScheduling(IWebHostBuilder host) =>
        host.UseSockets(o => o.UnsafePreferInlineScheduling = true);

    /// <summary>First in the pipeline: every request but a call moves to the thread pool before anything else runs.</summary>
    public static IApplicationBuilder UseThreadPoolForColdRoutes(this IApplicationBuilder app) =>
        app.Use((context, next) => IsCall(context.Request) ? next(context) : OnThreadPoolAsync(context, next));

    /// <summary>POST /v1/functions/{name}:invoke or :enqueue: the routes whose handlers always write their own body.</summary>
    public static bool IsCall(HttpRequest request)
    {
        var path = request.Path.Value;
        return HttpMethods.IsPost(request.Method) && path is not null && path.StartsWith("/v1/functions/", StringComparison.Ordinal)
            && path.IndexOf('/', "/v1/functions/".Length) < 0
            && (path.EndsWith(":invoke", StringComparison.Ordinal) || path.EndsWith(":enqueue", StringComparison.Ordinal));
    }

    private static async Task OnThreadPoolAsync(HttpContext context, RequestDelegate next)
    {
        await Task.Yield();
        await next(context);
    }
}
