using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Tern.Invocation.Async;
using Tern.Testing;

namespace Tern.Invocation.Tests.Async;

public sealed class ExecutionJanitorTests : IAsyncLifetime
{
    private readonly DaemonFixture _daemon = new();

    public Task InitializeAsync() => _daemon.StartAsync(s => s.Configure<AsyncOptions>(o =>
    {
        o.RecordTtl = TimeSpan.FromSeconds(1);
        o.JanitorInterval = TimeSpan.FromMilliseconds(200);
    }));

    public Task DisposeAsync() => _daemon.DisposeAsync();

    [Fact]
    public async Task FinishedRecord_PastItsTtl_IsRemoved()
    {
        await _daemon.CreateOkAsync("ttl-fn", "python", Encoding.UTF8.GetBytes("print(1)"), "main.py");
        var id = (string)(await _daemon.InvokeAsync("ttl-fn"))["executionId"]!;
        using (var fresh = await _daemon.Client.GetAsync($"/v1/executions/{id}"))
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpStatusCode status;
        do
        {
            await Task.Delay(200);
            using var response = await _daemon.Client.GetAsync($"/v1/executions/{id}");
            status = response.StatusCode;
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }
}
