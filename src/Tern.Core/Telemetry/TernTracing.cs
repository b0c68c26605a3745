using System.Diagnostics;

namespace Tern.Core.Telemetry;

/// <summary>The daemon's spans, on one process-wide ActivitySource named "Tern". Nothing listens unless OTLP export is
/// configured, and then StartActivity costs one check; tag names are the metric labels with a `tern.` prefix.</summary>
public static class TernTracing
{
    public const string SourceName = "Tern";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Starts the span for one call, or returns null when nothing samples it. The parent is the W3C
    /// <paramref name="traceParent"/> when there is one and the ambient span is not already in that trace; otherwise the
    /// ambient span, or none. Call from an async method: an ambient activity whose source nobody listens to (ASP.NET Core
    /// makes one per request for its log scopes even when nothing exports it) is cleared for the rest of the caller's
    /// flow, so the span neither hangs off a span no backend will see nor inherits its sampling flag.</summary>
    public static Activity? StartInvocation(string function, string executionId, string? traceParent)
    {
        if (!Source.HasListeners()) return null;
        if (Activity.Current is { } ambient && !ambient.Source.HasListeners()) Activity.Current = null;
        ActivityContext parent = default;
        if (traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var remote)
            && Activity.Current?.TraceId != remote.TraceId)
            parent = remote;
        var activity = Source.StartActivity("invoke " + function, ActivityKind.Internal, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("tern.function", function);
            activity.SetTag("tern.execution_id", executionId);
        }
        return activity;
    }
}
