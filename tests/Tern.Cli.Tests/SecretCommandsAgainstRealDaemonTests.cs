using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Cli.Tests;

/// <summary>`tern secret` in-process against a real daemon: the value goes in, is used by a function, and is never printed.</summary>
public sealed class SecretCommandsAgainstRealDaemonTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private readonly List<CliRun> _runs = [];

    private async Task<CliRun> TernAsync(string? stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(stdout, stderr, stdin is null ? null : new StringReader(stdin), null, _ => null);
        var exit = await app.RunAsync([.. args, "--server", daemon.BaseAddress.ToString()]);
        var run = new CliRun(exit, stdout.ToString(), stderr.ToString());
        _runs.Add(run);
        return run;
    }

    [Fact]
    public async Task SetListUseDelete_NeverPrintsTheValue()
    {
        var value = "cli-secret-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var other = "cli-piped-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

        var set = await TernAsync(null, "secret", "set", "cli_token", "--value", value, "--functions", "cli-sec");
        Assert.True(set.ExitCode == 0, set.Stderr);
        Assert.Contains("cli_token", set.Stdout);
        Assert.Contains("functions: cli-sec", set.Stdout);

        var piped = await TernAsync(other + "\n", "secret", "set", "cli_piped", "-o", "json");
        Assert.True(piped.ExitCode == 0, piped.Stderr);
        Assert.Equal("cli_piped", (string?)JsonNode.Parse(piped.Stdout)!["name"]);
        var scoped = await TernAsync(null, "secret", "scope", "cli_piped", "--functions", "cli-*,other");
        Assert.True(scoped.ExitCode == 0, scoped.Stderr);
        Assert.Contains("functions: cli-*,other", scoped.Stdout);
        var badScope = await TernAsync(null, "secret", "scope", "cli_piped", "--functions", "Bad Name");
        Assert.Equal(1, badScope.ExitCode);

        var noValue = await TernAsync(null, "secret", "set", "cli_none");
        Assert.Equal(ExitCodes.Usage, noValue.ExitCode);

        var listed = await TernAsync(null, "secret", "list");
        Assert.Contains("cli_token", listed.Stdout);
        Assert.Contains("cli_piped", listed.Stdout);
        Assert.Contains("NAME", listed.Stdout);
        var json = await TernAsync(null, "secret", "list", "-o", "json");
        Assert.Equal(2, JsonNode.Parse(json.Stdout)!["secrets"]!.AsArray().Count);
        await TernAsync(null, "secret", "list", "-o", "yaml");

        var dir = Directory.CreateTempSubdirectory("tern-cli-secret-");
        try
        {
            var main = Path.Combine(dir.FullName, "main.py");
            await File.WriteAllTextAsync(main, """
                import hashlib, json, os
                print(json.dumps({"a": hashlib.sha256(os.environ["A"].encode()).hexdigest(), "b": len(os.environ["B"])}))
                """);
            var created = await TernAsync(null, "create", "cli-sec", "--runtime", "python", "--code", main,
                "--env", "A=$SECRET:cli_token", "--env", "B=$SECRET:cli_piped");
            Assert.True(created.ExitCode == 0, created.Stderr);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
        var invoked = await TernAsync(null, "invoke", "cli-sec", "-o", "json");
        Assert.True(invoked.ExitCode == 0, invoked.Stdout + invoked.Stderr);
        var output = JsonNode.Parse(invoked.Stdout)!["output"]!;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value))), (string?)output["a"]);
        Assert.Equal(other.Length, (int)output["b"]!);
        await TernAsync(null, "get", "cli-sec", "-o", "json");

        Assert.Equal(0, (await TernAsync(null, "secret", "delete", "cli_piped")).ExitCode);
        var again = await TernAsync(null, "secret", "delete", "cli_piped");
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("error: ", again.Stderr);

        foreach (var run in _runs)
        {
            Assert.DoesNotContain(value, run.Stdout + run.Stderr);
            Assert.DoesNotContain(other, run.Stdout + run.Stderr);
        }
    }
}
