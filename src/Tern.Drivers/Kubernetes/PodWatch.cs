using k8s;
using k8s.Models;

namespace Tern.Drivers.Kubernetes;

/// <summary>The list-then-watch loop over the pods a label selector matches, as Kubernetes controllers run it: list,
/// watch from the list's resourceVersion, and list again whenever the watch ends (the server's timeout, 410 Gone, an
/// error), pausing 200 ms, doubling to 10 s while it keeps failing. Whatever ends a watch, the loop lists again: a dead
/// watch would strand whatever waits on it. Nothing polls: changes arrive as events.</summary>
internal static class PodWatch
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(10);

    /// <param name="listed">Every pod of a fresh list (each list replaces what the watch said before).</param>
    /// <param name="changed">One watch event (Added, Modified, Deleted) of one pod.</param>
    /// <param name="observe">The API's health: null after a list that worked, the exception of one that did not.</param>
    /// <param name="failed">Why a watch ended early (logged by the caller, in its own words).</param>
    public static async Task RunAsync(IKubernetes client, string ns, string selector, Action<IList<V1Pod>> listed,
        Action<WatchEventType, V1Pod> changed, Action<Exception?> observe, Action<string> failed, CancellationToken stop)
    {
        var pause = FirstPause;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var list = await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: stop).ConfigureAwait(false);
                listed(list.Items);
                observe(null);
                Exception? failure = null;
                var events = client.CoreV1.WatchListNamespacedPodAsync(ns, labelSelector: selector,
                    resourceVersion: list.Metadata.ResourceVersion, allowWatchBookmarks: true, onError: e => failure = e, cancellationToken: stop);
                await foreach (var (type, pod) in events.ConfigureAwait(false))
                {
                    pause = FirstPause;
                    if (type == WatchEventType.Error) break; // e.g. 410 Gone: the resourceVersion is too old; list again
                    if (type == WatchEventType.Bookmark || pod?.Metadata?.Name is null) continue;
                    changed(type, pod);
                }
                if (failure is not null && !stop.IsCancellationRequested) failed(failure.Message);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                observe(e);
                failed(e.Message);
            }
            try { await Task.Delay(pause, stop).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
        }
    }
}
