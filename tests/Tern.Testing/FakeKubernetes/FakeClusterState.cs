using System.Globalization;
using k8s;
using k8s.Models;

namespace Tern.Testing.FakeKubernetes;

/// <summary>The fake API server's objects (one namespace's worth is all the driver uses, but namespaces are kept apart)
/// with a resourceVersion counter, the pod event log watches replay, and the Deployment controller's one job: keep
/// each Deployment's live pods at its replica count, removing the cheapest pods first as the ReplicaSet controller
/// does (not Ready before Ready, then the lowest pod-deletion-cost, then the newest). Pods it creates go to the
/// <see cref="FakeKubelet"/>. A Job gets one pod (what backoffLimit 0 asks for) and, deleted, takes its pods with it.
/// All state is behind one lock; watchers wait on <see cref="Changed"/>.</summary>
public sealed class FakeClusterState
{
    private const string DeletionCost = "controller.kubernetes.io/pod-deletion-cost";
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Ns, string Name), V1Deployment> _deployments = new();
    private readonly Dictionary<(string Ns, string Name), V1ConfigMap> _configMaps = new();
    private readonly Dictionary<(string Ns, string Name), V1Pod> _pods = new();
    private readonly Dictionary<(string Ns, string Name), V1Secret> _secrets = new();
    private readonly Dictionary<(string Ns, string Name), V1Job> _jobs = new();
    private readonly List<PodEvent> _events = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _resourceVersion = 1;
    private int _podCounter;

    /// <summary>Called (outside the lock) for each pod the controller creates, and for each one deleted.</summary>
    public Action<V1Pod>? PodCreated { get; set; }
    public Action<V1Pod>? PodDeleted { get; set; }

    /// <summary>Every API request the fake served, as "VERB path" (for tests that check what the driver calls).</summary>
    public IReadOnlyList<string> Requests
    {
        get { lock (_gate) return [.. _requests]; }
    }

    private readonly List<string> _requests = [];

    public sealed record PodEvent(long ResourceVersion, string Namespace, string Type, IDictionary<string, string> Labels, string Json);

    public Task Changed
    {
        get { lock (_gate) return _changed.Task; }
    }

    public long ResourceVersion
    {
        get { lock (_gate) return _resourceVersion; }
    }

    public void Record(string request)
    {
        lock (_gate) _requests.Add(request);
    }

    public bool CreateConfigMap(string ns, V1ConfigMap configMap)
    {
        lock (_gate)
        {
            if (!_configMaps.TryAdd((ns, configMap.Metadata.Name), configMap)) return false;
            configMap.Metadata.ResourceVersion = Bump();
            return true;
        }
    }

    public V1ConfigMap? ConfigMap(string ns, string name)
    {
        lock (_gate) return _configMaps.GetValueOrDefault((ns, name));
    }

    public bool CreateSecret(string ns, V1Secret secret)
    {
        lock (_gate)
        {
            if (!_secrets.TryAdd((ns, secret.Metadata.Name), secret)) return false;
            secret.Metadata.ResourceVersion = Bump();
            return true;
        }
    }

    public V1Secret? Secret(string ns, string name)
    {
        lock (_gate) return _secrets.GetValueOrDefault((ns, name));
    }

    public bool DeleteSecret(string ns, string name)
    {
        lock (_gate) return _secrets.Remove((ns, name));
    }

    public IReadOnlyList<V1Secret> Secrets()
    {
        lock (_gate) return [.. _secrets.Values];
    }

    /// <summary>The Job controller's part for backoffLimit 0: one pod from the template (restartPolicy Never), labelled
    /// job-name as a real controller labels it.</summary>
    public bool CreateJob(string ns, V1Job job)
    {
        V1Pod pod;
        lock (_gate)
        {
            job.Metadata.NamespaceProperty = ns;
            job.Metadata.CreationTimestamp = DateTime.UtcNow;
            job.Metadata.Uid = Guid.NewGuid().ToString();
            if (!_jobs.TryAdd((ns, job.Metadata.Name), job)) return false;
            job.Metadata.ResourceVersion = Bump();
            _jobsCreated.Add(job);
            MostJobsAtOnce = Math.Max(MostJobsAtOnce, _jobs.Count);
            var template = KubernetesJson.Deserialize<V1PodTemplateSpec>(KubernetesJson.Serialize(job.Spec.Template));
            template.Metadata.Labels["job-name"] = job.Metadata.Name;
            pod = NewPod(ns, $"{job.Metadata.Name}-{(++_podCounter).ToString("x5", CultureInfo.InvariantCulture)}", template);
        }
        PodCreated?.Invoke(pod);
        return true;
    }

    /// <summary>Every Job ever created (deleted ones too), and the most that existed at one time.</summary>
    public IReadOnlyList<V1Job> JobsCreated
    {
        get { lock (_gate) return [.. _jobsCreated]; }
    }

    private readonly List<V1Job> _jobsCreated = [];

    public int MostJobsAtOnce { get; private set; }

    public IReadOnlyList<V1Job> Jobs()
    {
        lock (_gate) return [.. _jobs.Values];
    }

    /// <summary>Removes the Job, the Secrets it owns, and deletes its pods (propagation Background: the pods go after the Job).</summary>
    public bool DeleteJob(string ns, string name)
    {
        List<string> pods;
        lock (_gate)
        {
            if (!_jobs.Remove((ns, name), out var job)) return false;
            Bump();
            // The garbage collector's part: objects the Job owns go with it.
            foreach (var owned in _secrets.Where(s => s.Key.Ns == ns && s.Value.Metadata.OwnerReferences?.Any(o => o.Uid == job.Metadata.Uid) == true).ToList())
                _secrets.Remove(owned.Key);
            pods = [.. _pods.Where(p => p.Key.Ns == ns && p.Value.Metadata.Labels.TryGetValue("job-name", out var j) && j == name).Select(p => p.Key.Name)];
        }
        foreach (var pod in pods) DeletePod(ns, pod);
        return true;
    }

    public bool CreateDeployment(string ns, V1Deployment deployment)
    {
        lock (_gate)
        {
            deployment.Metadata.NamespaceProperty = ns;
            deployment.Metadata.CreationTimestamp = DateTime.UtcNow;
            if (!_deployments.TryAdd((ns, deployment.Metadata.Name), deployment)) return false;
            deployment.Metadata.ResourceVersion = Bump();
        }
        Reconcile(ns, deployment.Metadata.Name);
        return true;
    }

    public V1Deployment? Deployment(string ns, string name)
    {
        lock (_gate) return _deployments.GetValueOrDefault((ns, name));
    }

    public IReadOnlyList<V1Deployment> Deployments()
    {
        lock (_gate) return [.. _deployments.Values];
    }

    /// <summary>Sets spec.replicas and reconciles; null when there is no such Deployment.</summary>
    public int? Scale(string ns, string name, int replicas)
    {
        lock (_gate)
        {
            if (!_deployments.TryGetValue((ns, name), out var deployment)) return null;
            deployment.Spec.Replicas = replicas;
            deployment.Metadata.ResourceVersion = Bump();
        }
        Reconcile(ns, name);
        return replicas;
    }

    public IReadOnlyList<V1Pod> Pods(string ns, IDictionary<string, string> selector)
    {
        lock (_gate) return [.. _pods.Where(p => p.Key.Ns == ns && Matches(p.Value.Metadata.Labels, selector)).Select(p => p.Value)];
    }

    public IReadOnlyList<V1Pod> AllPods()
    {
        lock (_gate) return [.. _pods.Values];
    }

    public V1Pod? Pod(string ns, string name)
    {
        lock (_gate) return _pods.GetValueOrDefault((ns, name));
    }

    /// <summary>Pod events after <paramref name="after"/> matching the selector, and the task that completes on the next change.</summary>
    public (IReadOnlyList<PodEvent> Events, Task Next) PodEventsAfter(string ns, long after, IDictionary<string, string> selector)
    {
        lock (_gate)
        {
            return ([.. _events.Where(e => e.ResourceVersion > after && e.Namespace == ns && Matches(e.Labels, selector))], _changed.Task);
        }
    }

    /// <summary>Changes a pod under the lock and records a MODIFIED event; false when the pod is gone.</summary>
    public bool UpdatePod(string ns, string name, Action<V1Pod> change)
    {
        lock (_gate)
        {
            if (!_pods.TryGetValue((ns, name), out var pod)) return false;
            change(pod);
            Emit("MODIFIED", pod);
            return true;
        }
    }

    /// <summary>Marks the pod for deletion (its kubelet then stops it and calls <see cref="RemovePod"/>), and lets the
    /// controller replace it if its Deployment still wants as many pods.</summary>
    public bool DeletePod(string ns, string name)
    {
        V1Pod? pod;
        lock (_gate)
        {
            if (!_pods.TryGetValue((ns, name), out pod)) return false;
            // A Never pod that has ended has no container left to stop: it goes at once.
            if (pod.Status?.Phase is "Succeeded" or "Failed")
            {
                _pods.Remove((ns, name));
                Emit("DELETED", pod);
                return true;
            }
            if (pod.Metadata.DeletionTimestamp is null)
            {
                pod.Metadata.DeletionTimestamp = DateTime.UtcNow;
                Emit("MODIFIED", pod);
            }
        }
        PodDeleted?.Invoke(pod);
        if (pod.Metadata.Labels.TryGetValue("tern.dev/deployment", out var deployment)) Reconcile(ns, deployment);
        return true;
    }

    /// <summary>The kubelet has stopped the pod's container: the object goes (DELETED event).</summary>
    public void RemovePod(string ns, string name)
    {
        lock (_gate)
        {
            if (_pods.Remove((ns, name), out var pod)) Emit("DELETED", pod);
        }
    }

    private void Reconcile(string ns, string deploymentName)
    {
        var created = new List<V1Pod>();
        var deleted = new List<V1Pod>();
        lock (_gate)
        {
            if (!_deployments.TryGetValue((ns, deploymentName), out var deployment)) return;
            var selector = deployment.Spec.Selector.MatchLabels;
            var live = _pods.Where(p => p.Key.Ns == ns && p.Value.Metadata.DeletionTimestamp is null && Matches(p.Value.Metadata.Labels, selector))
                .Select(p => p.Value).ToList();
            var want = deployment.Spec.Replicas ?? 1;
            for (var i = live.Count; i < want; i++) created.Add(NewPod(ns, deployment));
            foreach (var pod in live.OrderBy(p => IsReady(p) ? 1 : 0).ThenBy(Cost).ThenByDescending(p => p.Metadata.CreationTimestamp).Take(Math.Max(0, live.Count - want)))
            {
                pod.Metadata.DeletionTimestamp = DateTime.UtcNow;
                Emit("MODIFIED", pod);
                deleted.Add(pod);
            }
            deployment.Status = new V1DeploymentStatus { Replicas = live.Count + created.Count - deleted.Count };
        }
        foreach (var pod in created) PodCreated?.Invoke(pod);
        foreach (var pod in deleted) PodDeleted?.Invoke(pod);
    }

    private V1Pod NewPod(string ns, V1Deployment deployment) =>
        NewPod(ns, $"{deployment.Metadata.Name}-{(++_podCounter).ToString("x5", CultureInfo.InvariantCulture)}",
            KubernetesJson.Deserialize<V1PodTemplateSpec>(KubernetesJson.Serialize(deployment.Spec.Template)));

    private V1Pod NewPod(string ns, string name, V1PodTemplateSpec template)
    {
        var pod = new V1Pod
        {
            ApiVersion = "v1", Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = ns,
                Labels = new Dictionary<string, string>(template.Metadata.Labels),
                Annotations = new Dictionary<string, string>(),
                CreationTimestamp = DateTime.UtcNow.AddTicks(_podCounter), // distinct, in creation order
                Uid = Guid.NewGuid().ToString(),
            },
            Spec = template.Spec,
            Status = new V1PodStatus { Phase = "Pending", Conditions = [new V1PodCondition { Type = "Ready", Status = "False" }] },
        };
        _pods[(ns, pod.Metadata.Name)] = pod;
        Emit("ADDED", pod);
        return pod;
    }

    public static bool IsReady(V1Pod pod) => pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    private static int Cost(V1Pod pod) =>
        pod.Metadata.Annotations?.TryGetValue(DeletionCost, out var cost) == true ? int.Parse(cost, CultureInfo.InvariantCulture) : 0;

    private void Emit(string type, V1Pod pod)
    {
        pod.Metadata.ResourceVersion = Bump();
        _events.Add(new PodEvent(_resourceVersion, pod.Metadata.NamespaceProperty, type, new Dictionary<string, string>(pod.Metadata.Labels),
            KubernetesJson.Serialize(pod)));
    }

    /// <summary>Under the lock: the next resourceVersion, and a wake-up for every watcher.</summary>
    private string Bump()
    {
        _resourceVersion++;
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
        return _resourceVersion.ToString(CultureInfo.InvariantCulture);
    }

    public static bool Matches(IDictionary<string, string>? labels, IDictionary<string, string>? selector) =>
        selector is null || selector.All(s => labels?.TryGetValue(s.Key, out var v) == true && v == s.Value);
}
