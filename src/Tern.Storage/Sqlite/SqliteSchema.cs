using Microsoft.Data.Sqlite;
using Tern.Storage.Schema;

namespace Tern.Storage.Sqlite;

/// <summary>Migrations on SQLite (<see cref="SchemaMigrator"/>): an IMMEDIATE transaction takes the file's write lock, so
/// two processes opening the same file apply each step once.</summary>
internal static class SqliteSchema
{
    private static readonly SchemaMigrator Migrator = new(connection => ((SqliteConnection)connection).BeginTransaction(deferred: false));

    public static void Migrate(SqliteConnection connection, IEnumerable<StoreSchema> stores) => Migrator.Migrate(connection, stores);

    /// <summary>The version each store's tables are at (0: none yet).</summary>
    public static int VersionOf(SqliteConnection connection, string store) => SchemaMigrator.VersionOf(connection, store);
}
