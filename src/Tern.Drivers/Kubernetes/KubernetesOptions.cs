using System.ComponentModel.DataAnnotations;
using Tern.Core.Settings;

namespace Tern.Drivers.Kubernetes;

/// <summary>The Kubernetes driver (section "kubernetes"): where the cluster is and what its worker pods run.
/// Nothing is contacted until a function with isolation kubernetes is registered or started (readiness asks too).</summary>
public sealed class KubernetesOptions
{
    public const string Section = "kubernetes";

    /// <summary>Empty: the pod's service account when the daemon runs in a cluster (KUBERNETES_SERVICE_HOST and the
    /// mounted token), else no cluster (the driver then reports itself unavailable).</summary>
    [Setting("A kubeconfig file for the cluster that runs kubernetes workers; empty: the in-cluster service account, if any")]
    public string? Kubeconfig { get; set; }

    [Setting("The kubeconfig context to use; empty: the file's current context")]
    public string? Context { get; set; }

    /// <summary>Empty: the in-cluster service account's namespace, or the kubeconfig context's, or "default".</summary>
    [Setting("The namespace worker Deployments, pods and code ConfigMaps live in; empty: the service account's or context's")]
    public string? Namespace { get; set; }

    /// <summary>{runtime} is replaced by the function's runtime (python, node, ...): one image per runtime, built from
    /// deploy/agent.Dockerfile, each holding the agent at <see cref="AgentCommand"/> and that runtime's interpreter.</summary>
    [Setting("The worker image; {runtime} is replaced by the function's runtime")]
    [Required]
    public string Image { get; set; } = "ghcr.io/tern/agent-{runtime}:latest";

    [Setting("The agent binary inside the worker image")]
    [Required]
    public string AgentCommand { get; set; } = "/opt/tern/tern-agent";

    [Setting("The TCP port the agent listens on in each worker pod")]
    [Range(1, 65535)]
    public int AgentPort { get; set; } = 7070;

    /// <summary>Job-style pods POST their result to {this}/v1/internal/executions/{id}:complete; the Service in front of
    /// the control plane (deploy/: http://tern.tern.svc). Empty: job-style calls fail with a message naming the setting.</summary>
    [Setting("The control plane's URL as job-style worker pods reach it (they POST their results there), e.g. http://tern.tern.svc")]
    public string? ControlPlaneUrl { get; set; }

    /// <summary>A cold start on a real cluster may include scheduling and an image pull.</summary>
    [Setting("How long a worker pod may take to become Ready and accept the daemon's connection")]
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(2);
}
