using System.Collections;
using System.Diagnostics;
using Tern.Api.Configuration;
using Tern.Api.Hosting;
using Tern.Drivers.Kubernetes;
using Tern.Testing;
using YamlDotNet.RepresentationModel;

namespace Tern.Api.Tests.Kubernetes;

/// <summary>deploy/kubernetes rendered with `kubectl kustomize` (Debian's kubernetes-client, installed by
/// scripts/install-deps.sh --test), and every object checked: the kinds, the Role granting exactly the driver's calls
/// (KubernetesPermissions) in the namespace the control plane points its driver at, the binding to the service account
/// the control plane runs as, the Secret, volume and Service wiring, the daemon settings it sets, and the
/// NetworkPolicy letting only the control plane reach the agents' port. Broken manifests fail here, not on a cluster.</summary>
public sealed class DeployManifestsTests
{
    private static readonly List<YamlMappingNode> Objects = Render();

    private static List<YamlMappingNode> Render()
    {
        var psi = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "kustomize", Path.Combine(RepoPaths.Root, "deploy", "kubernetes") }) psi.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("kubectl is missing: run scripts/install-deps.sh --test (Debian package kubernetes-client)", e);
        }
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"kubectl kustomize failed ({process.ExitCode}): {errors}");
        var stream = new YamlStream();
        stream.Load(new StringReader(output.Result));
        return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    private static string? Scalar(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next)) return null;
            node = next;
        }
        return (node as YamlScalarNode)?.Value;
    }

    private static YamlNode? Node(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next)) return null;
            node = next;
        }
        return node;
    }

    private static IEnumerable<YamlNode> Items(YamlNode? node) => (node as YamlSequenceNode)?.Children ?? [];

    private static YamlMappingNode One(string kind) => Assert.Single(Objects, o => Scalar(o, "kind") == kind);

    private static YamlMappingNode One(string kind, string name) =>
        Assert.Single(Objects, o => Scalar(o, "kind") == kind && Scalar(o, "metadata", "name") == name);

    [Fact]
    public void Kustomization_RendersExactlyTheExpectedObjects()
    {
        var kinds = Objects.Select(o => $"{Scalar(o, "kind")}/{Scalar(o, "metadata", "namespace") ?? "-"}/{Scalar(o, "metadata", "name")}").Order().ToList();
        Assert.Equal(new[]
        {
            "Deployment/tern/tern-control-plane", "Namespace/-/tern", "Namespace/-/tern-workers", "NetworkPolicy/tern-workers/tern-job-results", "NetworkPolicy/tern-workers/tern-workers",
            "PersistentVolumeClaim/tern/tern-data", "Role/tern-workers/tern-workers", "RoleBinding/tern-workers/tern-control-plane",
            "Secret/tern/tern-store", "Service/tern/tern", "ServiceAccount/tern/tern-control-plane",
        }.Order(), kinds);
        Assert.All(Objects, o => Assert.Equal("tern", Scalar(o, "metadata", "labels", "app.kubernetes.io/part-of")));
    }

    [Fact]
    public void Role_GrantsExactlyTheDriversCalls_InTheWorkersNamespace_ToTheControlPlanesServiceAccount()
    {
        var role = One("Role");
        var granted = Items(Node(role, "rules")).SelectMany(rule =>
            from g in Items(Node(rule, "apiGroups")) from r in Items(Node(rule, "resources")) from v in Items(Node(rule, "verbs"))
            select $"{((YamlScalarNode)g).Value}|{((YamlScalarNode)r).Value}|{((YamlScalarNode)v).Value}").Order().ToList();
        var needed = KubernetesPermissions.Rules.SelectMany(r => r.Verbs.Select(v => $"{r.ApiGroup}|{r.Resource}|{v}")).Order().ToList();
        Assert.Equal(needed, granted);
        Assert.DoesNotContain(Objects, o => Scalar(o, "kind") is "ClusterRole" or "ClusterRoleBinding");

        var deployment = One("Deployment");
        var env = Env(deployment);
        Assert.Equal(Scalar(role, "metadata", "namespace"), env["TERN_KUBERNETES_NAMESPACE"]);
        Assert.Equal("kubernetes", env["TERN_DRIVERS_DEFAULT_ISOLATION"]);

        var binding = One("RoleBinding");
        Assert.Equal(Scalar(role, "metadata", "namespace"), Scalar(binding, "metadata", "namespace"));
        Assert.Equal(Scalar(role, "metadata", "name"), Scalar(binding, "roleRef", "name"));
        Assert.Equal("Role", Scalar(binding, "roleRef", "kind"));
        var subject = Assert.Single(Items(Node(binding, "subjects")));
        Assert.Equal("ServiceAccount", Scalar(subject, "kind"));
        Assert.Equal(Scalar(deployment, "spec", "template", "spec", "serviceAccountName"), Scalar(subject, "name"));
        Assert.Equal(Scalar(deployment, "metadata", "namespace"), Scalar(subject, "namespace"));
        Assert.Equal(Scalar(subject, "name"), Scalar(One("ServiceAccount"), "metadata", "name"));
    }

    private static Dictionary<string, string?> Env(YamlMappingNode deployment) =>
        Items(Node(Assert.Single(Items(Node(deployment, "spec", "template", "spec", "containers"))), "env"))
            .ToDictionary(e => Scalar(e, "name")!, e => Scalar(e, "value"));

    [Fact]
    public void ControlPlane_IsWiredToItsSecretVolumeServiceAndProbes_AndSetsOnlyRealSettings()
    {
        var deployment = One("Deployment");
        var pod = Node(deployment, "spec", "template")!;
        var container = Assert.Single(Items(Node(pod, "spec", "containers")));
        Assert.Equal("ghcr.io/tern/control-plane:latest", Scalar(container, "image"));
        Assert.Equal("1", Scalar(deployment, "spec", "replicas")); // the only writer of its workers' replica counts
        Assert.Equal("/healthz/ready", Scalar(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("/healthz/live", Scalar(container, "livenessProbe", "httpGet", "path"));

        var store = Items(Node(container, "env")).Single(e => Scalar(e, "name") == "TERN_STORE");
        var secret = One("Secret");
        Assert.Equal(Scalar(secret, "metadata", "name"), Scalar(store, "valueFrom", "secretKeyRef", "name"));
        Assert.NotNull(Scalar(secret, "stringData", Scalar(store, "valueFrom", "secretKeyRef", "key")!));

        var claim = Items(Node(pod, "spec", "volumes")).Select(v => Scalar(v, "persistentVolumeClaim", "claimName")).Single(c => c is not null);
        Assert.Equal(Scalar(One("PersistentVolumeClaim"), "metadata", "name"), claim);

        var service = One("Service");
        Assert.Equal(Scalar(pod, "metadata", "labels", "app.kubernetes.io/name"), Scalar(service, "spec", "selector", "app.kubernetes.io/name"));
        var port = Assert.Single(Items(Node(service, "spec", "ports")));
        Assert.Contains(Items(Node(container, "ports")), p => Scalar(p, "name") == Scalar(port, "targetPort"));

        // Every TERN_ variable is one the daemon reads. TERN_STORE (the Postgres connection string) is the store
        // setting of the Postgres store (issue 14, part 1), which lands separately.
        var known = DaemonConfiguration.Load(DaemonHost.SettingsSections(), new ConfigLayer("flags"), null, new Hashtable()).Settings
            .SelectMany(s => s.EnvironmentVariables).ToHashSet();
        Assert.All(Env(deployment).Keys.Where(k => k != "TERN_STORE"), name => Assert.Contains(name, known));
    }

    [Fact]
    public void NetworkPolicy_LetsOnlyTheControlPlaneReachTheAgentPort_OfTheDriversPods()
    {
        var policy = One("NetworkPolicy", "tern-workers");
        Assert.Equal("tern", Scalar(policy, "spec", "podSelector", "matchLabels", "app.kubernetes.io/managed-by"));
        var rule = Assert.Single(Items(Node(policy, "spec", "ingress")));
        var from = Assert.Single(Items(Node(rule, "from")));
        Assert.Equal(Scalar(One("Deployment"), "metadata", "namespace"), Scalar(from, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"));
        Assert.Equal("tern-control-plane", Scalar(from, "podSelector", "matchLabels", "app.kubernetes.io/name"));
        Assert.Equal(new KubernetesOptions().AgentPort.ToString(), Scalar(Assert.Single(Items(Node(rule, "ports"))), "port"));
        Assert.Empty(Items(Node(policy, "spec", "egress")));
    }

    [Fact]
    public void JobStylePods_MayReachOnlyTheControlPlanesHttpPortAndDns_WhichControlPlaneUrlNames()
    {
        var deployment = One("Deployment");
        var service = One("Service");
        var url = new Uri(Env(deployment)["TERN_KUBERNETES_CONTROL_PLANE_URL"]!);
        Assert.Equal($"{Scalar(service, "metadata", "name")}.{Scalar(service, "metadata", "namespace")}.svc", url.Host);
        Assert.Equal(Scalar(Assert.Single(Items(Node(service, "spec", "ports"))), "port"), url.Port.ToString());

        var policy = One("NetworkPolicy", "tern-job-results");
        Assert.Equal("job", Scalar(policy, "spec", "podSelector", "matchLabels", "tern.dev/style"));
        Assert.Equal("Egress", Scalar(Assert.Single(Items(Node(policy, "spec", "policyTypes")))));
        var rules = Items(Node(policy, "spec", "egress")).ToList();
        Assert.Equal(2, rules.Count);
        var toControlPlane = Assert.Single(Items(Node(rules[0], "to")));
        Assert.Equal(Scalar(deployment, "metadata", "namespace"), Scalar(toControlPlane, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"));
        Assert.Equal("tern-control-plane", Scalar(toControlPlane, "podSelector", "matchLabels", "app.kubernetes.io/name"));
        var container = Assert.Single(Items(Node(deployment, "spec", "template", "spec", "containers")));
        var httpPort = Scalar(Items(Node(container, "ports")).Single(p => Scalar(p, "name") == "http"), "containerPort");
        Assert.Equal(httpPort, Scalar(Assert.Single(Items(Node(rules[0], "ports"))), "port"));
        Assert.All(Items(Node(rules[1], "ports")), p => Assert.Equal("53", Scalar(p, "port")));
    }
}
