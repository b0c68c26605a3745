using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Tern.Api.Auth;
using Tern.Api.Hosting;
using Xunit;

namespace Tern.Testing;

/// <summary>A real daemon (Kestrel on a free loopback port, SQLite in a temp dir, the bubblewrap driver) for one test class.</summary>
public class DaemonFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "tern-test-" + Guid.NewGuid().ToString("N"));
    public HttpClient Client { get; private set; } = null!;

    /// <summary>The running daemon's services (for tests that look behind the API).</summary>
    public IServiceProvider Services => _app!.Services;
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Off by default (the daemon is on loopback anyway); a subclass returns On to test API keys.</summary>
    protected virtual AuthMode Auth => AuthMode.Off;

    /// <summary>With auth on: the admin key the daemon created at its first start (as `tern daemon` prints it).</summary>
    public string? BootstrapKey { get; private set; }

    /// <summary>A subclass adjusts the daemon's options here (for example an OTLP endpoint).</summary>
    protected virtual void ConfigureOptions(DaemonOptions options) { }

    public virtual async Task InitializeAsync() => await StartAsync();

    /// <summary>Starts (or restarts) the daemon on the same data directory.</summary>
    public async Task StartAsync(Action<IServiceCollection>? configure = null)
    {
        // Tests never export unless they ask: an OTLP endpoint in the environment is ignored here.
        var options = new DaemonOptions { Listen = "127.0.0.1:0", DataDir = DataDir, Auth = Auth, OtlpEndpoint = null };
        ConfigureOptions(options);
        _app = DaemonHost.Build(options, configure);
        BootstrapKey = await _app.Services.GetRequiredService<ApiKeyService>().CreateBootstrapKeyIfNeededAsync() ?? BootstrapKey;
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
    }

    public async Task StopAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public virtual async Task DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Registers a single-file function; <paramref name="extra"/> adds or overrides JSON fields.</summary>
    public Task<HttpResponseMessage> CreateAsync(string name, string runtime, byte[] code, string? fileName, object? extra = null)
    {
        var body = new JsonObject
        {
            ["name"] = name, ["runtime"] = runtime, ["code"] = Convert.ToBase64String(code),
        };
        if (fileName is not null) body["codeFileName"] = fileName;
        if (extra is not null)
            foreach (var (key, value) in JsonSerializer.SerializeToNode(extra)!.AsObject()) body[key] = value?.DeepClone();
        return Client.PostAsJsonAsync("/v1/functions", body);
    }

    public async Task CreateOkAsync(string name, string runtime, byte[] code, string? fileName, object? extra = null)
    {
        using var response = await CreateAsync(name, runtime, code, fileName, extra);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"create {name} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Invokes and returns the parsed response body (asserting a 200).</summary>
    public async Task<JsonObject> InvokeAsync(string name, string eventJson = "{}")
    {
        using var response = await Client.PostAsync($"/v1/functions/{name}:invoke", new StringContent(eventJson, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"invoke {name}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Polls GET /v1/executions/{id} until the execution is terminal, and returns that record.</summary>
    public async Task<JsonObject> WaitTerminalAsync(string executionId, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var record = JsonNode.Parse(await Client.GetStringAsync($"/v1/executions/{executionId}"))!.AsObject();
            var status = (string?)record["status"];
            if (status is "success" or "error" or "timeout") return record;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"execution {executionId} still {status}");
            await Task.Delay(50);
        }
    }
}
