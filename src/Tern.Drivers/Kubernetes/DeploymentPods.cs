using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Tern.Drivers.Kubernetes;

/// <summary>The pods of one worker Deployment as a watch reports them (list, then watch from the list's resourceVersion;
/// listed again whenever the watch ends), and who has claimed which. A worker start waits here for a Ready pod nobody
/// has claimed; a claimed pod is never handed out again, even after its container restarts (a restart means the agent,
/// and with it the worker, ended). Waiting is event-driven: nothing polls the API.</summary>
internal sealed partial class DeploymentPods : IDisposable
{
    private readonly string _selector;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, V1Pod> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Claim> _claims = new(StringComparer.Ordinal);
    private readonly LinkedList<TaskCompletionSource<V1Pod>> _waiters = new();
    private readonly TaskCompletionSource _listed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DeploymentPods(IKubernetes client, string ns, string deployment, ILogger logger, Action<Exception?> observe)
    {
        _selector = $"{WorkerManifests.DeploymentLabel}={deployment}";
        _logger = logger;
        _ = Task.Run(() => PodWatch.RunAsync(client, ns, _selector, pods =>
        {
            Replace(pods);
            _listed.TrySetResult();
        }, Apply, observe, reason => LogWatchFailed(_selector, reason), _stop.Token));
    }

    /// <summary>A claimed pod: its restart count when claimed, and what ends the worker on it. A spare is claimed only to
    /// be removed (<see cref="ClaimSpare"/>); its claim lasts until the watch reports it gone.</summary>
    private sealed record Claim(int Restarts, TaskCompletionSource<string> Ended, bool Spare = false);

    /// <summary>The oldest Ready pod nobody has claimed, as soon as there is one.</summary>
    public async Task<V1Pod> ClaimReadyAsync(CancellationToken ct)
    {
        var waiter = new TaskCompletionSource<V1Pod>(TaskCreationOptions.RunContinuationsAsynchronously);
        LinkedListNode<TaskCompletionSource<V1Pod>> node;
        lock (_gate)
        {
            node = _waiters.AddLast(waiter);
            ServeWaiters();
        }
        await using var _ = ct.Register(() =>
        {
            lock (_gate)
            {
                if (node.List is not null) _waiters.Remove(node);
            }
            waiter.TrySetCanceled(ct);
        }).ConfigureAwait(false);
        return await waiter.Task.ConfigureAwait(false);
    }

    /// <summary>Completes, with the reason, when the claimed pod is deleted, fails or restarts its container.</summary>
    public Task<string> Ended(string pod)
    {
        lock (_gate) return _claims.TryGetValue(pod, out var claim) ? claim.Ended.Task : Task.FromResult($"pod {pod} is not claimed");
    }

    /// <summary>The pod as last reported (null once it is gone).</summary>
    public V1Pod? Current(string pod)
    {
        lock (_gate) return _pods.GetValueOrDefault(pod);
    }

    /// <summary>Why the pods nobody holds are not Ready (an image pull failing, no node to schedule on), for the message
    /// of a start that timed out; empty when nothing says.</summary>
    public string WaitingReasons()
    {
        lock (_gate)
        {
            return string.Join("; ", _pods.Values.Where(p => !_claims.ContainsKey(p.Metadata.Name) && !IsReady(p)).Select(p =>
            {
                var waiting = p.Status?.ContainerStatuses?.Select(c => c.State?.Waiting).FirstOrDefault(w => w is not null);
                var unscheduled = p.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False");
                var why = waiting is not null ? $"{waiting.Reason}: {waiting.Message}" : unscheduled?.Message ?? p.Status?.Phase ?? "no status yet";
                return $"pod {p.Metadata.Name}: {why}".TrimEnd(' ', ':');
            }).Distinct().Take(3));
        }
    }

    /// <summary>True when the pod is deleted or being deleted (its ReplicaSet counts it no more and may have replaced it).</summary>
    public bool IsGone(string pod)
    {
        lock (_gate) return !_pods.TryGetValue(pod, out var current) || current.Metadata.DeletionTimestamp is not null;
    }

    /// <summary>Claims a pod nobody holds, to be removed with one replica: one not Ready yet first (no start waits on it
    /// in particular), then the newest. Null when there is none. Its claim ends when the watch sees it go (or with
    /// <see cref="ReleaseSpare"/>, when removing it failed).</summary>
    public string? ClaimSpare()
    {
        lock (_gate)
        {
            var pod = _pods.Values.Where(p => !_claims.ContainsKey(p.Metadata.Name) && p.Metadata.DeletionTimestamp is null)
                .OrderBy(IsReady).ThenByDescending(p => p.Metadata.CreationTimestamp ?? DateTime.MinValue).FirstOrDefault();
            if (pod is null) return null;
            _claims[pod.Metadata.Name] = new Claim(Restarts(pod), new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously), Spare: true);
            return pod.Metadata.Name;
        }
    }

    /// <summary>Forgets a claim whose worker has been torn down.</summary>
    public void Release(string pod)
    {
        lock (_gate)
        {
            if (_claims.Remove(pod, out var claim)) claim.Ended.TrySetResult($"worker on pod {pod} was stopped");
        }
    }

    /// <summary>Releases a spare whose removal failed: it may serve after all.</summary>
    public void ReleaseSpare(string pod)
    {
        lock (_gate)
        {
            if (_claims.TryGetValue(pod, out var claim) && claim.Spare) _claims.Remove(pod);
            ServeWaiters();
        }
    }

    private void Replace(IList<V1Pod> pods)
    {
        lock (_gate)
        {
            _pods.Clear();
            foreach (var pod in pods) _pods[pod.Metadata.Name] = pod;
            foreach (var (name, claim) in _claims.ToList())
            {
                if (_pods.ContainsKey(name)) continue;
                claim.Ended.TrySetResult($"pod {name} was deleted");
                if (claim.Spare) _claims.Remove(name);
            }
            Changed();
        }
    }

    private void Apply(WatchEventType type, V1Pod pod)
    {
        lock (_gate)
        {
            var name = pod.Metadata.Name;
            if (type == WatchEventType.Deleted)
            {
                _pods.Remove(name);
                if (_claims.TryGetValue(name, out var claim))
                {
                    claim.Ended.TrySetResult($"pod {name} was deleted");
                    if (claim.Spare) _claims.Remove(name);
                }
            }
            else
            {
                _pods[name] = pod;
            }
            Changed();
        }
    }

    private void Changed()
    {
        foreach (var (name, claim) in _claims)
            if (_pods.TryGetValue(name, out var pod) && EndReason(pod, claim.Restarts) is { } reason) claim.Ended.TrySetResult(reason);
        ServeWaiters();
    }

    private void ServeWaiters()
    {
        while (_waiters.First is { } first)
        {
            var pod = _pods.Values.Where(p => IsReady(p) && !_claims.ContainsKey(p.Metadata.Name))
                .OrderBy(p => p.Metadata.CreationTimestamp ?? DateTime.MaxValue).FirstOrDefault();
            if (pod is null) return;
            _waiters.RemoveFirst();
            _claims[pod.Metadata.Name] = new Claim(Restarts(pod), new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
            if (!first.Value.TrySetResult(pod)) _claims.Remove(pod.Metadata.Name);
        }
    }

    public static bool IsReady(V1Pod pod) =>
        pod.Metadata.DeletionTimestamp is null && pod.Status?.Phase == "Running" && !string.IsNullOrEmpty(pod.Status.PodIP)
        && pod.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    private static int Restarts(V1Pod pod) => pod.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0;

    /// <summary>Why a claimed pod no longer carries its worker, or null while it does.</summary>
    private static string? EndReason(V1Pod pod, int restartsWhenClaimed)
    {
        var name = pod.Metadata.Name;
        if (pod.Metadata.DeletionTimestamp is not null) return $"pod {name} is being deleted";
        if (pod.Status?.Phase is "Failed" or "Succeeded") return $"pod {name} ended ({pod.Status.Phase}{(pod.Status.Reason is { } r ? ": " + r : "")})";
        if (Restarts(pod) > restartsWhenClaimed)
        {
            var terminated = pod.Status?.ContainerStatuses?.Select(c => c.LastState?.Terminated).FirstOrDefault(t => t is not null);
            return $"the agent in pod {name} exited{(terminated is null ? "" : $" ({terminated.Reason}, exit code {terminated.ExitCode})")} and was restarted";
        }
        return null;
    }

    public void Dispose()
    {
        _stop.Cancel();
        lock (_gate)
        {
            foreach (var waiter in _waiters) waiter.TrySetException(new WorkerStartException("the kubernetes driver is stopping"));
            _waiters.Clear();
        }
    }

    [LoggerMessage(EventId = 140, Level = LogLevel.Warning, Message = "watching pods {Selector} failed: {Reason}; listing again")]
    private partial void LogWatchFailed(string selector, string reason);
}
