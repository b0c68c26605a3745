using Microsoft.Data.Sqlite;
using Tern.Storage.Schema;

namespace Tern.Storage.Sqlite;

/// <summary>Brings each store's tables up to its latest migration, recording where each store stands in the table
/// schema_versions (store, version, applied_at). A store's pending steps run in one IMMEDIATE transaction, so two
/// processes opening the same file apply them once, and a failed step leaves the store at its previous version.</summary>
internal static class SqliteSchema
{
    public static void Migrate(SqliteConnection connection, IEnumerable<StoreSchema> stores)
    {
        Execute(connection, null, """
            CREATE TABLE IF NOT EXISTS schema_versions (
                store       TEXT PRIMARY KEY,
                version     INTEGER NOT NULL,
                applied_at  TEXT NOT NULL
            );
            """);
        foreach (var store in stores) Migrate(connection, store);
    }

    /// <summary>The version each store's tables are at (0: none yet).</summary>
    public static int VersionOf(SqliteConnection connection, string store, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT version FROM schema_versions WHERE store = $store";
        command.Parameters.AddWithValue("$store", store);
        return command.ExecuteScalar() is long version ? (int)version : 0;
    }

    private static void Migrate(SqliteConnection connection, StoreSchema store)
    {
        if (VersionOf(connection, store.Store) == store.LatestVersion) return; // the common case: no write lock taken
        using var transaction = connection.BeginTransaction(deferred: false);
        var current = VersionOf(connection, store.Store, transaction);
        if (current > store.LatestVersion) throw new SchemaTooNewException(store.Store, current, store.LatestVersion);
        foreach (var step in store.Migrations.Where(m => m.Version > current))
        {
            try
            {
                Execute(connection, transaction, step.Sql);
            }
            catch (SqliteException e)
            {
                throw new SchemaMigrationException(store.Store, step.Version, step.Description, e);
            }
        }
        using (var record = connection.CreateCommand())
        {
            record.Transaction = transaction;
            record.CommandText = """
                INSERT INTO schema_versions (store, version, applied_at) VALUES ($store, $version, $now)
                ON CONFLICT (store) DO UPDATE SET version = $version, applied_at = $now
                """;
            record.Parameters.AddWithValue("$store", store.Store);
            record.Parameters.AddWithValue("$version", store.LatestVersion);
            record.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToString("O"));
            record.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
