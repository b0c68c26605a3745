using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tern.Testing;

namespace Tern.Api.Tests.Secrets;

/// <summary>A daemon whose every log line (all levels, all categories) is also kept in memory for searching.</summary>
public sealed class LogCapturingDaemonFixture : DaemonFixture
{
    public CapturingLoggerProvider Logs { get; } = new();

    public override Task InitializeAsync() => StartAsync(services =>
    {
        services.AddSingleton<ILoggerProvider>(Logs);
        services.Configure<LoggerFilterOptions>(o => o.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace));
    });
}

public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            owner.Lines.Enqueue($"{logLevel} {category} {formatter(state, exception)} {structured} {exception}");
        }
    }
}

/// <summary>Secrets end to end: set through the API, resolved into a worker's env, and never shown anywhere.</summary>
public sealed class SecretsAgainstRealDaemonTests(LogCapturingDaemonFixture daemon) : IClassFixture<LogCapturingDaemonFixture>
{
    private const string Handler = """
        import hashlib, json, os
        token = os.environ["TOKEN"]
        print(json.dumps({"len": len(token), "sha256": hashlib.sha256(token.encode()).hexdigest()}))
        """;

    private readonly List<string> _bodies = [];

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, object? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : JsonContent.Create(json) };
        using var response = await daemon.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        _bodies.Add(body);
        _bodies.Add(response.Headers.ToString() + response.Content.Headers);
        return (response.StatusCode, body);
    }

    [Fact]
    public async Task SecretInEnv_IsResolvedInTheWorker_AndItsValueAppearsNowhere()
    {
        var value = "tern-secret-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

        var (status, body) = await SendAsync(HttpMethod.Put, "/v1/secrets/api_token", new { value, functions = new[] { "sec-user" } });
        Assert.Equal(HttpStatusCode.Created, status);
        var set = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("api_token", (string?)set["name"]);
        Assert.NotNull(set["createdAt"]);
        Assert.NotNull(set["updatedAt"]);
        Assert.Null(set["value"]);

        (status, body) = await SendAsync(HttpMethod.Put, "/v1/secrets/api_token", new { value });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("sec-user", (string?)JsonNode.Parse(body)!["functions"]![0]); // a new value keeps the scope

        (status, body) = await SendAsync(HttpMethod.Get, "/v1/secrets");
        Assert.Equal(HttpStatusCode.OK, status);
        var listed = JsonNode.Parse(body)!["secrets"]!.AsArray();
        Assert.Contains(listed, s => (string?)s!["name"] == "api_token");

        await daemon.CreateOkAsync("sec-user", "python", Encoding.UTF8.GetBytes(Handler), "main.py",
            new { env = new Dictionary<string, string> { ["TOKEN"] = "$SECRET:api_token" } });
        (status, body) = await SendAsync(HttpMethod.Get, "/v1/functions/sec-user");
        Assert.Equal("$SECRET:api_token", (string?)JsonNode.Parse(body)!["env"]!["TOKEN"]);

        (status, body) = await SendAsync(HttpMethod.Post, "/v1/functions/sec-user:invoke", new { });
        Assert.Equal(HttpStatusCode.OK, status);
        var result = JsonNode.Parse(body)!;
        Assert.True((string?)result["status"] == "success", body);
        Assert.Equal(value.Length, (int)result["output"]!["len"]!);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value))), (string?)result["output"]!["sha256"]);

        // A malformed body and a bad name are 400s that do not echo what was sent.
        (status, body) = await SendAsync(HttpMethod.Put, "/v1/secrets/api_token", null);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        using (var bad = new StringContent("{\"value\": \"" + value + "\\q\"}", Encoding.UTF8, "application/json"))
        using (var response = await daemon.Client.PutAsync("/v1/secrets/api_token", bad))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            _bodies.Add(await response.Content.ReadAsStringAsync());
        }
        (status, _) = await SendAsync(HttpMethod.Put, "/v1/secrets/bad%20name", new { value });
        Assert.Equal(HttpStatusCode.BadRequest, status);

        foreach (var text in _bodies) Assert.DoesNotContain(value, text);
        foreach (var line in daemon.Logs.Lines) Assert.DoesNotContain(value, line);
        Assert.NotEmpty(daemon.Logs.Lines);
        // Every regular file: a worker's agent.sock is a socket (opening it fails with ENXIO), and a worker being torn down
        // may take its files with it while they are listed.
        foreach (var file in Directory.EnumerateFiles(daemon.DataDir, "*", SearchOption.AllDirectories))
        {
            if (file.EndsWith(".sock", StringComparison.Ordinal) || !File.Exists(file)) continue;
            byte[] bytes;
            try { bytes = await ReadSharedAsync(file); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { continue; }
            Assert.False(Contains(bytes, value), $"{file} holds the secret's plain value");
        }
    }

    [Fact]
    public async Task Scope_ANewSecretIsForNoFunction_RegisteringAgainstItIs400_AndNarrowingItStopsNewWorkers()
    {
        var (status, body) = await SendAsync(HttpMethod.Put, "/v1/secrets/scoped_token", new { value = "s3cret" });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Empty(JsonNode.Parse(body)!["functions"]!.AsArray());

        var env = new { env = new Dictionary<string, string> { ["TOKEN"] = "$SECRET:scoped_token" } };
        using (var refused = await daemon.CreateAsync("sec-scoped", "python", Encoding.UTF8.GetBytes(Handler), "main.py", env))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
            Assert.Contains("not granted to function 'sec-scoped'", problem["errors"]!["env.TOKEN"]![0]!.ToString());
        }

        (status, body) = await SendAsync(HttpMethod.Patch, "/v1/secrets/scoped_token", new { functions = new[] { "sec-*" } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("sec-*", (string?)JsonNode.Parse(body)!["functions"]![0]);
        await daemon.CreateOkAsync("sec-scoped", "python", Encoding.UTF8.GetBytes(Handler), "main.py", env);
        Assert.Equal("success", (string?)(await daemon.InvokeAsync("sec-scoped"))["status"]);

        // Narrowed while the function is deployed: its next worker cannot get the value (and says why).
        (status, _) = await SendAsync(HttpMethod.Patch, "/v1/secrets/scoped_token", new { functions = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.OK, status);
        (status, _) = await SendAsync(HttpMethod.Patch, "/v1/functions/sec-scoped", new { memoryMb = 256 }); // new config: new workers
        Assert.Equal(HttpStatusCode.OK, status);
        var result = await daemon.InvokeAsync("sec-scoped");
        Assert.Equal("SecretNotGranted", (string?)result["error"]?["code"]);

        (status, body) = await SendAsync(HttpMethod.Patch, "/v1/secrets/scoped_token", new { functions = new[] { "Not A Name" } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        (status, _) = await SendAsync(HttpMethod.Patch, "/v1/secrets/no_such_secret", new { functions = new[] { "*" } });
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task MissingSecret_InvokeIsAnErrorNamingIt()
    {
        await daemon.CreateOkAsync("sec-missing", "python", Encoding.UTF8.GetBytes(Handler), "main.py",
            new { env = new Dictionary<string, string> { ["TOKEN"] = "$SECRET:no_such_secret" } });
        var result = await daemon.InvokeAsync("sec-missing");
        Assert.Equal("error", (string?)result["status"]);
        Assert.Equal("SecretNotFound", (string?)result["error"]!["code"]);
        Assert.Contains("no_such_secret", (string?)result["error"]!["message"]);
    }

    [Fact]
    public async Task Delete_ThenDeleteAgain_Is204Then404()
    {
        var (status, _) = await SendAsync(HttpMethod.Put, "/v1/secrets/short_lived", new { value = "x" });
        Assert.Equal(HttpStatusCode.Created, status);
        (status, _) = await SendAsync(HttpMethod.Delete, "/v1/secrets/short_lived");
        Assert.Equal(HttpStatusCode.NoContent, status);
        (status, var body) = await SendAsync(HttpMethod.Delete, "/v1/secrets/short_lived");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("short_lived", body);
    }

    [Fact]
    public async Task Put_TooLargeValue_Is400()
    {
        var (status, body) = await SendAsync(HttpMethod.Put, "/v1/secrets/big", new { value = new string('z', 64 * 1024 + 1) });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.DoesNotContain("zzzz", body);
    }

    private static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0
        || haystack.AsSpan().IndexOf(Encoding.Unicode.GetBytes(needle)) >= 0;

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
