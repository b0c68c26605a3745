using System.Text.Json.Nodes;
using Tern.Api.Auth;
using Tern.Testing;

namespace Tern.Cli.Tests;

public sealed class AuthOnDaemonFixture : DaemonFixture
{
    protected override AuthMode Auth => AuthMode.On;
}

/// <summary>`tern apikey ...` and --api-key / TERN_API_KEY against a real daemon with auth on.</summary>
public sealed class ApiKeyCommandsAgainstRealDaemonTests(AuthOnDaemonFixture daemon) : IClassFixture<AuthOnDaemonFixture>
{
    private async Task<CliRun> TernAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(stdout, stderr, null, null, name => environment is not null && environment.TryGetValue(name, out var v) ? v : null);
        var exit = await app.RunAsync([.. args, "--server", daemon.BaseAddress.ToString()]);
        return new CliRun(exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task WithoutKey_FailsWith401Line()
    {
        var run = await TernAsync(null, "list");
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("error: ", run.Stderr);
        Assert.Contains("API key required", run.Stderr);
        Assert.Contains("TERN_API_KEY", run.Stderr);
    }

    [Fact]
    public async Task CreateListRevoke_WithFlagAndEnvironment()
    {
        var created = await TernAsync(null, "apikey", "create", "cli-ci", "--rate-limit", "50", "--api-key", daemon.BootstrapKey!);
        Assert.True(created.ExitCode == 0, created.Stderr);
        var key = created.Stdout.Trim();
        Assert.StartsWith("tern_", key);
        Assert.Contains("shown only this once", created.Stderr);

        var env = new Dictionary<string, string> { ["TERN_API_KEY"] = key };
        var listed = await TernAsync(env, "apikey", "list", "-o", "json");
        Assert.True(listed.ExitCode == 0, listed.Stderr);
        Assert.DoesNotContain(key, listed.Stdout);
        var entry = JsonNode.Parse(listed.Stdout)!["apiKeys"]!.AsArray().Single(k => (string?)k!["name"] == "cli-ci")!;
        Assert.Equal(50, (int?)entry["rateLimitPerSecond"]);

        var table = await TernAsync(env, "apikey", "list");
        Assert.Contains("cli-ci", table.Stdout);

        var revoked = await TernAsync(env, "apikey", "revoke", (string)entry["id"]!, "--api-key", daemon.BootstrapKey!);
        Assert.True(revoked.ExitCode == 0, revoked.Stderr);
        var after = await TernAsync(env, "list");
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("Invalid API key", after.Stderr);
    }
}
