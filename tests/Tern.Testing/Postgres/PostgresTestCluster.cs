using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Tern.Testing.Postgres;

/// <summary>A real Postgres server for the tests of one test run (this test process): started once, on first use,
/// through scripts/postgres-test-cluster.sh (which installs postgresql when it is absent), and stopped and removed when
/// the process exits. Each test class gets a database of its own.</summary>
public static class PostgresTestCluster
{
    private static readonly Lazy<Task<int>> Port = new(StartAsync);
    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Databases = new();
    private static readonly string Dir = Path.Combine(Path.GetTempPath(), $"tern-test-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
    private static string Script => Path.Combine(RepoPaths.Root, "scripts", "postgres-test-cluster.sh");

    /// <summary>The connection string of a database made for <paramref name="owner"/> (a test class) the first time it
    /// asks; the same one after that.</summary>
    public static Task<string> DatabaseForAsync(string owner) =>
        Databases.GetOrAdd(owner, name => new Lazy<Task<string>>(() => CreateDatabaseAsync(name))).Value;

    /// <summary>A new, empty database; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string hint)
    {
        var port = await Port.Value;
        var name = "t_" + new string(hint.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(30).ToArray()) + "_" + Guid.NewGuid().ToString("N")[..8];
        await using (var admin = new NpgsqlConnection(ConnectionString(port, "postgres")))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        return ConnectionString(port, name);
    }

    /// <summary>The same database as a postgres:// URL (the form users give TERN_STORE).</summary>
    public static string ToUrl(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
    }

    private static string ConnectionString(int port, string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "postgres", Database = database, Pooling = true }.ConnectionString;

    private static async Task<int> StartAsync()
    {
        await StopOrphansAsync();
        var (code, stdout, stderr) = await RunScriptAsync("start", Dir);
        if (code != 0 || !int.TryParse(stdout.Trim().Split('\n')[^1], out var port))
            throw new InvalidOperationException($"scripts/postgres-test-cluster.sh start failed ({code}):\n{stdout}{stderr}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RunScriptAsync("stop", Dir).GetAwaiter().GetResult();
        return port;
    }

    /// <summary>Clusters left by test processes that were killed before their exit handler ran.</summary>
    private static async Task StopOrphansAsync()
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), "tern-test-pg-*"))
        {
            var parts = Path.GetFileName(dir).Split('-');
            if (parts.Length > 3 && int.TryParse(parts[3], out var pid) && !Directory.Exists($"/proc/{pid}"))
                await RunScriptAsync("stop", dir);
        }
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunScriptAsync(string action, string dir)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Script, action, dir }) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
