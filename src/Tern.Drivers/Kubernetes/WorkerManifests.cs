using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using k8s.Models;
using Tern.Core.Code;

namespace Tern.Drivers.Kubernetes;

/// <summary>The objects the driver creates for a function: one ConfigMap holding its code and one Deployment whose pods
/// run the agent listening on TCP. A Deployment is per (function, code, runtime, limits): a code change gets a new one
/// instead of a rolling update, which would replace pods the old pool still holds while it drains.</summary>
internal static class WorkerManifests
{
    public const string ManagedBy = "app.kubernetes.io/managed-by";
    public const string FunctionLabel = "tern.dev/function";
    public const string CodeHashLabel = "tern.dev/code-hash";
    public const string DeploymentLabel = "tern.dev/deployment";
    /// <summary>The ReplicaSet controller removes the pods with the lowest cost first when a Deployment scales down.</summary>
    public const string DeletionCost = "controller.kubernetes.io/pod-deletion-cost";

    /// <summary>A ConfigMap holds at most 1 MiB in etcd; binaryData is base64 (4/3), plus names and paths.</summary>
    public const long MaxCodeBytes = 700 * 1024;

    /// <summary>A label value is at most 63 characters; 40 hex digits of the SHA-256 name the code well enough.</summary>
    public static string ShortHash(string hash) => hash.Length > 40 ? hash[..40] : hash;

    /// <summary>A label value has at most 63 characters and begins and ends with a letter or digit; a function name may
    /// have 64 and end in '-' or '_'.</summary>
    public static string LabelValue(string value) => (value.Length > 63 ? value[..63] : value).TrimEnd('-', '_', '.');

    public static string DeploymentName(WorkerSpec spec, string image)
    {
        var key = $"{spec.Code!.Hash}|{spec.Code.FileName}|{image}|{spec.Limits.MemoryMb}|{spec.Limits.Vcpus}";
        var suffix = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..10];
        var name = spec.FunctionName.Replace('_', '-');
        return $"tern-{(name.Length > 40 ? name[..40] : name).TrimEnd('-')}-{suffix}";
    }

    public static string ConfigMapName(CodeRef code) =>
        $"tern-code-{ShortHash(code.Hash)}{(code.FileName is null ? "" : "-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code.FileName)))[..8])}";

    /// <summary>The package's files as binaryData keys and the paths they take under /code (a ConfigMap volume's items
    /// may name sub-directories, which keys cannot). Throws WorkerStartException when it is too large for a ConfigMap.</summary>
    public static (V1ConfigMap ConfigMap, List<V1KeyToPath> Items) CodeConfigMap(CodeRef code, string localPath)
    {
        var files = code.IsSingleFile
            ? [(localPath, code.FileName!)]
            : Directory.EnumerateFiles(localPath, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
                .Select(f => (f, Path.GetRelativePath(localPath, f))).OrderBy(f => f.Item2, StringComparer.Ordinal).ToList();
        long total = 0;
        var data = new Dictionary<string, byte[]>();
        var items = new List<V1KeyToPath>();
        foreach (var (path, relative) in files)
        {
            var bytes = File.ReadAllBytes(path);
            total += bytes.Length;
            if (total > MaxCodeBytes)
                throw new WorkerStartException($"the code package is larger than {MaxCodeBytes / 1024} KB, the most the kubernetes driver ships in a ConfigMap");
            var key = "f" + items.Count.ToString(CultureInfo.InvariantCulture);
            data[key] = bytes;
            var executable = (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;
            items.Add(new V1KeyToPath { Key = key, Path = relative, Mode = executable ? 0b101_101_101 : 0b100_100_100 });
        }
        var configMap = new V1ConfigMap
        {
            Metadata = new V1ObjectMeta
            {
                Name = ConfigMapName(code),
                Labels = new Dictionary<string, string> { [ManagedBy] = "tern", [CodeHashLabel] = ShortHash(code.Hash) },
            },
            BinaryData = data,
            Immutable = true,
        };
        return (configMap, items);
    }

    public static V1Deployment Deployment(string name, WorkerSpec spec, string image, string configMap, List<V1KeyToPath> items,
        KubernetesOptions options)
    {
        var labels = new Dictionary<string, string>
        {
            [ManagedBy] = "tern", [FunctionLabel] = LabelValue(spec.FunctionName), [CodeHashLabel] = ShortHash(spec.Code!.Hash), [DeploymentLabel] = name,
        };
        var env = new List<V1EnvVar>
        {
            new() { Name = "POD_IP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } } },
            // The agent serves the first connection it accepts: only the daemon may reach this port (deploy/'s
            // NetworkPolicy). No readiness probe connects to it for the same reason.
            new() { Name = "TERN_AGENT_TRANSPORT", Value = $"tcp-listen:$(POD_IP):{options.AgentPort}" },
        };
        var podSpec = PodSpec(spec, image, configMap, items, options, env, "Always");
        podSpec.Containers[0].Ports = [new V1ContainerPort { ContainerPort = options.AgentPort, Name = "agent", Protocol = "TCP" }];
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = labels },
            Spec = new V1DeploymentSpec
            {
                Replicas = 0,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [DeploymentLabel] = name } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = podSpec,
                },
            },
        };
    }

    /// <summary>A worker pod: the agent as uid 65534 with nothing it does not need (no privilege, capabilities, service
    /// account token or writable root), its code at /code from the ConfigMap, /tmp an emptyDir, limits from the spec.
    /// Shared by the warm style's Deployment and the per-call style's Jobs.</summary>
    public static V1PodSpec PodSpec(WorkerSpec spec, string image, string configMap, List<V1KeyToPath> items, KubernetesOptions options,
        List<V1EnvVar> env, string restartPolicy)
    {
        var resources = new Dictionary<string, ResourceQuantity>
        {
            ["memory"] = new($"{spec.Limits.MemoryMb}Mi"),
            ["cpu"] = new(spec.Limits.Vcpus.ToString(CultureInfo.InvariantCulture)),
        };
        var container = new V1Container
        {
            Name = "agent",
            Image = image,
            Command = [options.AgentCommand],
            Env = env,
            Resources = new V1ResourceRequirements { Limits = resources, Requests = resources },
            SecurityContext = new V1SecurityContext
            {
                AllowPrivilegeEscalation = false, ReadOnlyRootFilesystem = true, Capabilities = new V1Capabilities { Drop = ["ALL"] },
            },
            VolumeMounts = [new V1VolumeMount { MountPath = "/code", Name = "code", ReadOnlyProperty = true }, new V1VolumeMount { MountPath = "/tmp", Name = "tmp" }],
        };
        return new V1PodSpec
        {
            Containers = [container],
            RestartPolicy = restartPolicy,
            AutomountServiceAccountToken = false,
            EnableServiceLinks = false,
            TerminationGracePeriodSeconds = 2,
            SecurityContext = new V1PodSecurityContext
            {
                RunAsNonRoot = true, RunAsUser = 65534, RunAsGroup = 65534,
                SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
            },
            Volumes =
            [
                new V1Volume { Name = "code", ConfigMap = new V1ConfigMapVolumeSource { Name = configMap, Items = items } },
                new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("64Mi") } },
            ],
        };
    }
}
