using k8s;
using k8s.Exceptions;

namespace Tern.Drivers.Kubernetes;

/// <summary>The cluster the driver talks to: a client built once from the kubeconfig setting or, without one, from the
/// pod's service account, and the namespace workers live in. Building it only reads files; whether the API server
/// answers is <see cref="KubernetesReachability"/>'s concern.</summary>
internal sealed class KubernetesCluster : IDisposable
{
    private readonly Lazy<(IKubernetes? Client, string? Namespace, string? Problem, string? Server)> _connection;

    public KubernetesCluster(KubernetesOptions options) => _connection = new(() => Connect(options));

    /// <summary>Why there is no client (no cluster configured, an unreadable kubeconfig), or null.</summary>
    public string? ConfigurationProblem => _connection.Value.Problem;

    public IKubernetes Client => _connection.Value.Client ?? throw new WorkerStartException(ConfigurationProblem!);

    public string Namespace => _connection.Value.Namespace ?? "default";

    /// <summary>The API server's address, for messages.</summary>
    public string Server => _connection.Value.Server ?? "(none)";

    private static (IKubernetes?, string?, string?, string?) Connect(KubernetesOptions options)
    {
        KubernetesClientConfiguration config;
        try
        {
            if (!string.IsNullOrEmpty(options.Kubeconfig))
            {
                if (!File.Exists(options.Kubeconfig))
                    return (null, null, $"kubernetes.kubeconfig names {options.Kubeconfig}, which does not exist", null);
                config = KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig,
                    string.IsNullOrEmpty(options.Context) ? null : options.Context);
            }
            else if (KubernetesClientConfiguration.IsInCluster())
            {
                config = KubernetesClientConfiguration.InClusterConfig();
            }
            else
            {
                return (null, null, "no Kubernetes cluster is configured: set kubernetes.kubeconfig (TERN_KUBERNETES_KUBECONFIG) " +
                    "or run the daemon in a pod with a service account (docs/kubernetes.md)", null);
            }
        }
        catch (Exception e) when (e is KubeConfigException or IOException or UnauthorizedAccessException or FormatException
                                      or YamlDotNet.Core.YamlException)
        {
            return (null, null, $"the Kubernetes configuration cannot be used: {e.Message}", null);
        }
        var ns = string.IsNullOrEmpty(options.Namespace) ? config.Namespace ?? "default" : options.Namespace;
        return (new k8s.Kubernetes(config), ns, null, config.Host);
    }

    public void Dispose()
    {
        if (_connection.IsValueCreated) _connection.Value.Client?.Dispose();
    }
}
