using Microsoft.Extensions.DependencyInjection;
using Tern.Pools;
using Tern.Testing;

namespace Tern.Pools.Tests;

/// <summary>A real daemon whose pools expire idle workers after 2 s and ping every second, so tests need not wait a minute.</summary>
public sealed class FastPoolDaemonFixture : DaemonFixture
{
    public static void FastPools(IServiceCollection services) =>
        services.Configure<PoolOptions>(o =>
        {
            o.IdleTtl = TimeSpan.FromSeconds(2);
            o.PingInterval = TimeSpan.FromSeconds(1);
        });

    public override Task InitializeAsync() => StartAsync(FastPools);
}
