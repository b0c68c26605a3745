using System.Data.Common;

namespace Tern.Storage.Sql;

/// <summary>A database the relational stores run on (SQLite or Postgres): pooled connections, already migrated, and the
/// few things in which the two SQL dialects differ. The stores' SQL is written once for both (named <c>@</c>
/// parameters, standard statements, ON CONFLICT upserts), so behaviour (ordering, paging, constraints) is the same.</summary>
internal interface IStoreDatabase
{
    SqlDialect Dialect { get; }

    /// <summary>An open pooled connection. Throws when the database cannot be reached (Postgres) or opened.</summary>
    DbConnection OpenConnection();

    ValueTask<DbConnection> OpenConnectionAsync(CancellationToken ct = default);
}
