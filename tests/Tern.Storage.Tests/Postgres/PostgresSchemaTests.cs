using Npgsql;
using Tern.Storage.Postgres;
using Tern.Storage.Schema;
using Tern.Storage.Tests.Contract;

namespace Tern.Storage.Tests.Postgres;

/// <summary>Postgres migrations on a real server: versions recorded per store, applied once when several daemons
/// start at once (advisory lock), a newer schema refused.</summary>
public sealed class PostgresSchemaTests : IAsyncLifetime
{
    private readonly PostgresBackend _backend = new();

    public Task InitializeAsync() => _backend.InitializeAsync(nameof(PostgresSchemaTests));

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    private async Task<Dictionary<string, int>> VersionsAsync()
    {
        await using var connection = new NpgsqlConnection(_backend.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT store, version FROM schema_versions", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new Dictionary<string, int>();
        while (await reader.ReadAsync()) versions[reader.GetString(0)] = reader.GetInt32(1);
        return versions;
    }

    [Fact]
    public async Task EightDaemonsStartingAtOnce_ApplyEachStepOnce_AndEveryStoreIsAtItsLatestVersion()
    {
        var starts = Enumerable.Range(0, 8).Select(_ => Task.Run(() => new PostgresDatabase(_backend.ConnectionString).EnsureReady()));

        await Task.WhenAll(starts); // a second CREATE TABLE of the same step would have thrown

        Assert.Equal(PostgresMigrations.All.ToDictionary(s => s.Store, s => s.LatestVersion), await VersionsAsync());
    }

    [Fact]
    public async Task ADatabaseFromANewerTern_IsRefusedNamingTheStoreAndBothVersions()
    {
        new PostgresDatabase(_backend.ConnectionString).EnsureReady();
        await using (var connection = new NpgsqlConnection(_backend.ConnectionString))
        {
            await connection.OpenAsync();
            await using var bump = new NpgsqlCommand("UPDATE schema_versions SET version = version + 1 WHERE store = 'executions'", connection);
            await bump.ExecuteNonQueryAsync();
        }

        var refused = Assert.Throws<SchemaTooNewException>(() => new PostgresDatabase(_backend.ConnectionString).EnsureReady());
        Assert.Contains($"'executions' schema is version {PostgresMigrations.Executions.LatestVersion + 1}", refused.Message);
    }

    [Fact]
    public void ReleasedSteps_AreNumberedOneByOneFromOne_AndEveryStoreHasItsSqliteCounterpart()
    {
        foreach (var store in PostgresMigrations.All)
            Assert.Equal(Enumerable.Range(1, store.Migrations.Count), store.Migrations.Select(m => m.Version));
        Assert.Empty(Tern.Storage.Sqlite.SqliteMigrations.All.Select(s => s.Store).Except(PostgresMigrations.All.Select(s => s.Store)));
    }

    [Fact]
    public void AServerThatDoesNotAnswer_IsOneLineWithoutThePassword()
    {
        var problem = PostgresProbe.Problem("postgres://tern:s3cret@127.0.0.1:1/tern");

        Assert.NotNull(problem);
        Assert.StartsWith("the Postgres store postgres://127.0.0.1:1/tern does not answer", problem);
        Assert.DoesNotContain("s3cret", problem);
        Assert.DoesNotContain('\n', problem);
    }
}
