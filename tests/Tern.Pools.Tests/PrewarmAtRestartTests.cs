using System.Text;

namespace Tern.Pools.Tests;

public sealed class PrewarmAtRestartTests : IAsyncLifetime
{
    private readonly FastPoolDaemonFixture _daemon = new();

    public Task InitializeAsync() => _daemon.InitializeAsync();
    public Task DisposeAsync() => _daemon.DisposeAsync();

    [Fact]
    public async Task MinReplicas_ArePrewarmedAfterARestart()
    {
        await _daemon.CreateOkAsync("restart-min", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py", new { minReplicas = 1 });
        await _daemon.StopAsync();
        await _daemon.StartAsync(FastPoolDaemonFixture.FastPools);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False((bool)(await _daemon.InvokeAsync("restart-min"))["coldStart"]!);
    }
}
