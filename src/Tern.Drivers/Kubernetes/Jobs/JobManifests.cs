using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using k8s.Models;
using Tern.Agent.Protocol;

namespace Tern.Drivers.Kubernetes.Jobs;

/// <summary>The objects of one call in the per-call style: a Secret holding the call (Init, Exec) and its token, and a
/// Job (backoffLimit 0: a call runs at most once) whose pod runs the agent in one-shot mode with that Secret mounted.</summary>
internal static class JobManifests
{
    public const string StyleLabel = "tern.dev/style";
    public const string JobStyle = "job";
    /// <summary>On the Job's pods: which call's Job they belong to (the pod watch maps a pod to its call by it).</summary>
    public const string JobLabel = "tern.dev/job";
    public const string CallMountPath = "/var/run/tern/call";

    /// <summary>How long a finished Job is kept (one the daemon could not delete, e.g. it stopped mid-call).</summary>
    public const int FinishedJobTtlSeconds = 300;

    /// <summary>tern-call-{execution id}-{4 random hex}: an execution id is a UUID (36 characters, DNS-safe); the
    /// suffix keeps a retry of the same execution apart from a Job of its earlier attempt still being removed.
    /// 51 characters at most, so the pods' generated names stay within 63.</summary>
    public static string JobName(string executionId)
    {
        var safe = new string([.. executionId.ToLowerInvariant().Where(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')]).Trim('-');
        if (safe.Length > 36) safe = safe[..36].TrimEnd('-');
        return $"tern-call-{safe}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
    }

    /// <summary>Owned by the Job (<paramref name="jobUid"/>): the garbage collector removes it with the Job, so a Job the
    /// daemon could not delete (it stopped mid-call) takes the call's event and token with it when its TTL ends.</summary>
    /// <summary>Kubernetes refuses a Secret over 1 MiB, and the call (Init with its environment, and the event) travels in
    /// one: a little is left for the token and the object's own fields.</summary>
    public const int MaxCallBytes = 1024 * 1024 - 8 * 1024;

    /// <summary>What the pod's agent reads from the Secret: the call as JSON.</summary>
    public static byte[] CallBytes(OneShotCall call) => JsonSerializer.SerializeToUtf8Bytes(call, AgentJsonContext.Default.OneShotCall);

    public static V1Secret Secret(string name, string jobUid, byte[] call, string token) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            Labels = new Dictionary<string, string> { [WorkerManifests.ManagedBy] = "tern", [StyleLabel] = JobStyle, [JobLabel] = name },
            OwnerReferences = [new V1OwnerReference { ApiVersion = "batch/v1", Kind = "Job", Name = name, Uid = jobUid }],
        },
        Immutable = true,
        Data = new Dictionary<string, byte[]>
        {
            [OneShotCall.FileName] = call,
            [OneShotCall.TokenFileName] = System.Text.Encoding.UTF8.GetBytes(token),
        },
    };

    public static V1Job Job(string name, WorkerSpec spec, string image, string configMap, List<V1KeyToPath> items, string completeUrl,
        int timeoutMs, KubernetesOptions options)
    {
        var labels = new Dictionary<string, string>
        {
            [WorkerManifests.ManagedBy] = "tern", [WorkerManifests.FunctionLabel] = WorkerManifests.LabelValue(spec.FunctionName),
            [WorkerManifests.CodeHashLabel] = WorkerManifests.ShortHash(spec.Code!.Hash), [StyleLabel] = JobStyle, [JobLabel] = name,
        };
        var env = new List<V1EnvVar>
        {
            new() { Name = OneShotCall.DirectoryVariable, Value = CallMountPath },
            new() { Name = OneShotCall.CompleteUrlVariable, Value = completeUrl },
        };
        var pod = WorkerManifests.PodSpec(spec, image, configMap, items, options, env, "Never");
        pod.Volumes.Add(new V1Volume { Name = "call", Secret = new V1SecretVolumeSource { SecretName = name, DefaultMode = 0b100_100_100 } });
        pod.Containers[0].TerminationMessagePolicy = "FallbackToLogsOnError"; // a failed pod's reason includes the agent's last words
        pod.Containers[0].VolumeMounts.Add(new V1VolumeMount { MountPath = CallMountPath, Name = "call", ReadOnlyProperty = true });
        return new V1Job
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = labels },
            Spec = new V1JobSpec
            {
                BackoffLimit = 0,
                // A backstop should the daemon not delete the Job itself (it does at the call's timeout): the handler's
                // timeout plus the time a pod may take to start (scheduling, an image pull).
                ActiveDeadlineSeconds = (long)Math.Ceiling(timeoutMs / 1000.0 + options.StartTimeout.TotalSeconds),
                TtlSecondsAfterFinished = FinishedJobTtlSeconds,
                Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels }, Spec = pod },
            },
        };
    }

    public static string CompleteUrl(string controlPlaneUrl, string executionId) =>
        string.Create(CultureInfo.InvariantCulture, $"{controlPlaneUrl.TrimEnd('/')}/v1/internal/executions/{Uri.EscapeDataString(executionId)}:complete");
}
