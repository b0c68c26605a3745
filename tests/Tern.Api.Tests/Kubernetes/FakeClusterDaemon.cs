using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Hosting;
using Tern.Drivers.Kubernetes;
using Tern.Pools;
using Tern.Testing;
using Tern.Testing.FakeKubernetes;

namespace Tern.Api.Tests.Kubernetes;

/// <summary>A real daemon whose kubernetes driver talks to a fake API server (FakeKubernetesServer: no cluster or
/// container engine runs here) whose pods are the real agent, each on its own 127.0.0.x. A short idle TTL so scale to
/// zero can be watched.</summary>
public class FakeClusterDaemon : DaemonFixture
{
    public static readonly TimeSpan IdleTtl = TimeSpan.FromSeconds(3);

    public FakeKubernetesServer Cluster { get; private set; } = null!;

    /// <summary>Known before the daemon starts: job-style pods post their results to it (kubernetes.controlPlaneUrl).</summary>
    private readonly int _port = FreePort();

    protected override void ConfigureOptions(DaemonOptions options) => options.Listen = $"127.0.0.1:{_port}";

    /// <summary>A path after the daemon's address in kubernetes.controlPlaneUrl (a wrong one makes pods' reports fail).</summary>
    protected virtual string ControlPlanePath => "";

    public override async Task InitializeAsync()
    {
        Cluster = await FakeKubernetesServer.StartAsync(Path.Combine(AppContext.BaseDirectory, "agent", "tern-agent"),
            Path.Combine(AppContext.BaseDirectory, "tern-runtimes"));
        await StartAsync(services =>
        {
            services.Configure<KubernetesOptions>(o =>
            {
                o.Kubeconfig = Cluster.KubeconfigPath;
                o.StartTimeout = TimeSpan.FromSeconds(30);
                o.ControlPlaneUrl = $"http://127.0.0.1:{_port}{ControlPlanePath}";
            });
            services.Configure<PoolOptions>(o => o.IdleTtl = IdleTtl);
        });
        if (Auth == Tern.Api.Auth.AuthMode.On) Client.DefaultRequestHeaders.Add("X-API-Key", BootstrapKey);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
