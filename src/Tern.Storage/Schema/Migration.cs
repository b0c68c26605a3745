namespace Tern.Storage.Schema;

/// <summary>One numbered step of a store's schema. Versions start at 1 and grow by one; a step, once released, never
/// changes (a fix is a new step), so every database that has applied version N has the same tables.</summary>
public sealed record Migration(int Version, string Description, string Sql);

/// <summary>The schema of one store (functions, executions, ...) as its migrations in order. Each store has its own
/// version, so stores can change independently and a new store needs no change to the others.</summary>
public sealed record StoreSchema(string Store, IReadOnlyList<Migration> Migrations)
{
    public int LatestVersion => Migrations.Count == 0 ? 0 : Migrations[^1].Version;
}

/// <summary>The database was written by a newer Tern than this one: it would not understand the tables.</summary>
public sealed class SchemaTooNewException(string store, int found, int known)
    : Exception($"the database's '{store}' schema is version {found}, but this Tern knows up to version {known}; run the newer Tern, or restore a backup");

/// <summary>A migration step failed; the store stays at the version it had (the step's transaction is rolled back).</summary>
public sealed class SchemaMigrationException(string store, int version, string description, Exception inner)
    : Exception($"migrating the database's '{store}' schema to version {version} ({description}) failed: {inner.Message}", inner);
