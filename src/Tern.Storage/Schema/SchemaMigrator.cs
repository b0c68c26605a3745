using System.Data.Common;

namespace Tern.Storage.Schema;

/// <summary>Brings each store's tables up to its latest migration, recording where each store stands in the table
/// schema_versions (store, version, applied_at). A store's pending steps run in one transaction that first shuts out
/// every other migrator (<paramref name="beginExclusive"/>: SQLite's IMMEDIATE transaction, a Postgres advisory lock),
/// so two daemons starting at once apply them once, and a failed step leaves the store at its previous version.
/// Shared by the SQLite and Postgres databases; only the exclusive begin differs.</summary>
internal sealed class SchemaMigrator(Func<DbConnection, DbTransaction> beginExclusive)
{
    public const string VersionsTable = """
        CREATE TABLE IF NOT EXISTS schema_versions (
            store       TEXT PRIMARY KEY,
            version     INTEGER NOT NULL,
            applied_at  TEXT NOT NULL
        );
        """;

    public void Migrate(DbConnection connection, IEnumerable<StoreSchema> stores)
    {
        using (var transaction = beginExclusive(connection))
        {
            Execute(connection, transaction, VersionsTable);
            transaction.Commit();
        }
        foreach (var store in stores) Migrate(connection, store);
    }

    /// <summary>The version each store's tables are at (0: none yet).</summary>
    public static int VersionOf(DbConnection connection, string store, DbTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT version FROM schema_versions WHERE store = @store";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@store";
        parameter.Value = store;
        command.Parameters.Add(parameter);
        return command.ExecuteScalar() is { } version and not DBNull ? Convert.ToInt32(version) : 0;
    }

    private void Migrate(DbConnection connection, StoreSchema store)
    {
        if (VersionOf(connection, store.Store) == store.LatestVersion) return; // the common case: no lock taken
        using var transaction = beginExclusive(connection);
        var current = VersionOf(connection, store.Store, transaction);
        if (current > store.LatestVersion) throw new SchemaTooNewException(store.Store, current, store.LatestVersion);
        foreach (var step in store.Migrations.Where(m => m.Version > current))
        {
            try
            {
                Execute(connection, transaction, step.Sql);
            }
            catch (DbException e)
            {
                throw new SchemaMigrationException(store.Store, step.Version, step.Description, e);
            }
        }
        using (var record = connection.CreateCommand())
        {
            record.Transaction = transaction;
            record.CommandText = """
                INSERT INTO schema_versions (store, version, applied_at) VALUES (@store, @version, @now)
                ON CONFLICT (store) DO UPDATE SET version = @version, applied_at = @now
                """;
            foreach (var (name, value) in new (string, object)[] { ("@store", store.Store), ("@version", store.LatestVersion), ("@now", DateTimeOffset.UtcNow.ToString("O")) })
            {
                var parameter = record.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value;
                record.Parameters.Add(parameter);
            }
            record.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    private static void Execute(DbConnection connection, DbTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
