using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Tern.Core.Invocations;

namespace Tern.Drivers.Kubernetes.Jobs;

/// <summary>One watch over the pods of every per-call Job in the namespace (label tern.dev/style=job; list, then watch
/// from the list's resourceVersion, listed again whenever the watch ends). A call waiting for its result also waits
/// here: a pod that fails, is deleted or exits without reporting ends the call with the pod's reason instead of a
/// hang until the timeout. Nothing polls the API.</summary>
internal sealed partial class JobPods : IDisposable
{
    private static readonly TimeSpan FirstRewatchPause = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LongestRewatchPause = TimeSpan.FromSeconds(10);
    /// <summary>Waiting reasons no retry by the kubelet will fix.</summary>
    private static readonly HashSet<string> HopelessWaits = ["InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "ErrImageNeverPull"];

    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TaskCompletionSource<PodEnd>> _tracked = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _listed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Why a call's pod ended without a result: the error code the call fails with and the message.</summary>
    public sealed record PodEnd(string Code, string Message);

    public JobPods(IKubernetes client, string ns, ILogger logger, Action<Exception?> observe)
    {
        _logger = logger;
        _ = Task.Run(() => PodWatch.RunAsync(client, ns, $"{JobManifests.StyleLabel}={JobManifests.JobStyle}", pods =>
        {
            foreach (var pod in pods) Apply(WatchEventType.Added, pod);
            _listed.TrySetResult();
        }, Apply, observe, LogWatchFailed, _stop.Token));
    }

    /// <summary>Completes once the first list has been read: from then on every change of a Job's pod is seen.</summary>
    public Task Listed => _listed.Task;

    /// <summary>Completes when the pod of Job <paramref name="job"/> ends without its call having been answered.</summary>
    public Task<PodEnd> Track(string job)
    {
        var ended = new TaskCompletionSource<PodEnd>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _tracked[job] = ended;
        return ended.Task;
    }

    public void Untrack(string job)
    {
        lock (_gate) _tracked.Remove(job);
    }

    private void Apply(WatchEventType type, V1Pod pod)
    {
        if (pod.Metadata.Labels?.TryGetValue(JobManifests.JobLabel, out var job) != true) return;
        TaskCompletionSource<PodEnd>? waiting;
        lock (_gate)
        {
            if (!_tracked.TryGetValue(job!, out waiting)) return;
        }
        if ((type == WatchEventType.Deleted ? new PodEnd(InvocationError.WorkerCrashed, $"pod {pod.Metadata.Name} was deleted") : EndOf(pod)) is { } end)
            waiting.TrySetResult(end);
    }

    /// <summary>Why the pod will not report, or null while it still may.</summary>
    internal static PodEnd? EndOf(V1Pod pod)
    {
        var name = pod.Metadata.Name;
        var container = pod.Status?.ContainerStatuses?.FirstOrDefault();
        var terminated = container?.State?.Terminated;
        if (pod.Status?.Phase == "Failed")
        {
            if (terminated?.Reason == "OOMKilled")
                return new PodEnd(InvocationError.OutOfMemory, $"pod {name} was killed at its memory limit (OOMKilled)");
            var why = terminated is not null
                ? $"{terminated.Reason ?? "Error"}, exit code {terminated.ExitCode}{(string.IsNullOrEmpty(terminated.Message) ? "" : ": " + terminated.Message.Trim())}"
                : $"{pod.Status.Reason ?? "Failed"}{(string.IsNullOrEmpty(pod.Status.Message) ? "" : ": " + pod.Status.Message)}";
            return new PodEnd(InvocationError.WorkerCrashed, $"pod {name} failed ({why})");
        }
        if (pod.Status?.Phase == "Succeeded")
            return new PodEnd(InvocationError.WorkerCrashed, $"pod {name} exited without reporting a result");
        if (container?.State?.Waiting is { } waiting && HopelessWaits.Contains(waiting.Reason ?? ""))
            return new PodEnd(InvocationError.WorkerCrashed, $"pod {name} cannot start: {waiting.Reason}: {waiting.Message}");
        if (pod.Metadata.DeletionTimestamp is not null)
            return new PodEnd(InvocationError.WorkerCrashed, $"pod {name} is being deleted");
        return null;
    }

    public void Dispose() => _stop.Cancel();

    [LoggerMessage(EventId = 145, Level = LogLevel.Warning, Message = "watching job pods failed: {Reason}; listing again")]
    private partial void LogWatchFailed(string reason);
}
