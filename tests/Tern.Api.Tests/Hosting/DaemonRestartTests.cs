using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Api.Tests.Hosting;

public sealed class DaemonRestartTests : IAsyncLifetime
{
    private readonly DaemonFixture _daemon = new();

    public Task InitializeAsync() => _daemon.InitializeAsync();
    public Task DisposeAsync() => _daemon.DisposeAsync();

    [Fact]
    public async Task Restart_SameDataDir_KeepsFunctionsAndTheyStillRun()
    {
        await _daemon.CreateOkAsync("survivor", "python", Encoding.UTF8.GetBytes("print('\"still here\"')"), "main.py", new { memoryMb = 256 });
        await _daemon.StopAsync();
        await _daemon.StartAsync();

        var function = JsonNode.Parse(await _daemon.Client.GetStringAsync("/v1/functions/survivor"))!;
        Assert.Equal(256, (int)function["memoryMb"]!);
        Assert.Equal("still here", (string?)(await _daemon.InvokeAsync("survivor"))["output"]);
    }
}
