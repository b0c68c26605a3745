namespace Tern.Drivers.Kubernetes;

/// <summary>Every API call the driver makes, as RBAC sees it: deploy/kubernetes/role.yaml grants exactly these in the
/// workers' namespace (a test compares them), and the fake-cluster tests check that each request the driver sent is one
/// of them. A new call here needs a new verb there.</summary>
public static class KubernetesPermissions
{
    public sealed record Rule(string ApiGroup, string Resource, string[] Verbs);

    public static IReadOnlyList<Rule> Rules { get; } =
    [
        new("", "configmaps", ["create"]),                // the code of a function (WorkerDeployment.OpenAsync)
        new("apps", "deployments", ["create"]),           // one per function, code and limits
        new("apps", "deployments/scale", ["patch"]),      // a worker started or stopped
        new("", "pods", ["list", "watch", "patch", "delete"]), // the pod watches; deletion cost; removing a killed worker's pod
        new("", "secrets", ["create", "delete"]),         // job style: a call's event and token (Jobs/CallJobs)
        new("batch", "jobs", ["create", "delete"]),       // job style: one Job per call
    ];
}
