using Microsoft.Data.Sqlite;
using Tern.Storage.Schema;
using Tern.Storage.Sqlite;

namespace Tern.Storage.Tests.Sqlite;

/// <summary>Schema versions: every store recorded at its latest step, nothing re-run, newer databases refused, a failed
/// step rolled back. The upgrade from a real previous-release database is PreviousReleaseUpgradeTests (Tern.Api.Tests).</summary>
public sealed class SqliteSchemaTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={_dir.Combine("tern.db")};Pooling=False");
        connection.Open();
        return connection;
    }

    private static Dictionary<string, (long Version, string AppliedAt)> Versions(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT store, version, applied_at FROM schema_versions";
        using var reader = command.ExecuteReader();
        var versions = new Dictionary<string, (long, string)>();
        while (reader.Read()) versions[reader.GetString(0)] = (reader.GetInt64(1), reader.GetString(2));
        return versions;
    }

    [Fact]
    public void NewDatabase_RecordsEveryStoreAtItsLatestVersion()
    {
        _ = new SqliteDatabase(_dir.Combine("tern.db"));
        using var connection = Connect();
        var versions = Versions(connection);
        Assert.Equal(SqliteMigrations.All.Select(s => s.Store).Order(), versions.Keys.Order());
        foreach (var store in SqliteMigrations.All) Assert.Equal(store.LatestVersion, versions[store.Store].Version);
    }

    [Fact]
    public void OpeningAgain_AppliesNothing()
    {
        _ = new SqliteDatabase(_dir.Combine("tern.db"));
        Dictionary<string, (long, string)> before;
        using (var connection = Connect()) before = Versions(connection);
        _ = new SqliteDatabase(_dir.Combine("tern.db"));
        using (var connection = Connect()) Assert.Equal(before, Versions(connection));
    }

    [Fact]
    public void DatabaseFromANewerTern_IsRefusedNamingTheStoreAndBothVersions()
    {
        _ = new SqliteDatabase(_dir.Combine("tern.db"));
        using (var connection = Connect())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE schema_versions SET version = version + 1 WHERE store = 'api_keys'";
            command.ExecuteNonQuery();
        }
        var refused = Assert.Throws<SchemaTooNewException>(() => new SqliteDatabase(_dir.Combine("tern.db")));
        var latest = SqliteMigrations.ApiKeys.LatestVersion;
        Assert.Contains($"'api_keys' schema is version {latest + 1}", refused.Message);
        Assert.Contains($"up to version {latest}", refused.Message);
    }

    [Fact]
    public void FailingStep_LeavesTheStoreAtItsPreviousVersion_WithNoneOfTheStepApplied()
    {
        using var connection = Connect();
        var v1 = new StoreSchema("demo", [new(1, "table", "CREATE TABLE demo (id INTEGER PRIMARY KEY);")]);
        SqliteSchema.Migrate(connection, [v1]);
        var broken = new StoreSchema("demo",
        [
            v1.Migrations[0],
            new(2, "a column, then a typo", "ALTER TABLE demo ADD COLUMN name TEXT; ALTER TABLE no_such_table ADD COLUMN x TEXT;"),
        ]);
        var failed = Assert.Throws<SchemaMigrationException>(() => SqliteSchema.Migrate(connection, [broken]));
        Assert.Contains("'demo' schema to version 2 (a column, then a typo)", failed.Message);
        Assert.Equal(1, SqliteSchema.VersionOf(connection, "demo"));
        using var columns = connection.CreateCommand();
        columns.CommandText = "SELECT count(*) FROM pragma_table_info('demo') WHERE name = 'name'";
        Assert.Equal(0L, columns.ExecuteScalar()); // the first statement of the failed step was rolled back too
    }

    [Fact]
    public void ReleasedSteps_AreNumberedOneByOneFromOne()
    {
        foreach (var store in SqliteMigrations.All)
            Assert.Equal(Enumerable.Range(1, store.Migrations.Count), store.Migrations.Select(m => m.Version));
    }

    [Fact]
    public void SqliteDatabase_NewFile_UsesWalJournal()
    {
        using var connection = new SqliteDatabase(_dir.Combine("tern.db")).Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";

        Assert.Equal("wal", command.ExecuteScalar() as string);
    }

    [Fact]
    public async Task Schema_ExecutionsTable_HasTheQueryIndexes()
    {
        await using var connection = new SqliteDatabase(_dir.Combine("tern.db")).Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions' AND sql IS NOT NULL";
        var indexes = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) indexes.Add(reader.GetString(0));

        Assert.Contains(indexes, sql => sql.Contains("(status)"));
        Assert.Contains(indexes, sql => sql.Contains("(function, dead_letter, finished_at)"));
        Assert.Contains(indexes, sql => sql.Contains("(finished_at)"));
        Assert.Contains(indexes, sql => sql.Contains("UNIQUE") && sql.Contains("(function, idempotency_key)") && sql.Contains("WHERE idempotency_key IS NOT NULL"));
    }
}
