using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tern.Core.Executions;

namespace Tern.Storage.Sql;

/// <summary>Where SQLite and Postgres differ for the stores: the column that records insertion order, how a unique
/// violation is reported, and how a transaction shuts out other writers of the same rows.</summary>
internal sealed class SqlDialect
{
    private SqlDialect(string name, string insertionOrder, string live, Func<DbException, bool> isUniqueViolation, string? keyLockSql)
    {
        Name = name;
        InsertionOrder = insertionOrder;
        Live = live;
        _isUniqueViolation = isUniqueViolation;
        KeyLockSql = keyLockSql;
    }

    private readonly Func<DbException, bool> _isUniqueViolation;

    public string Name { get; }

    /// <summary>A column that grows with each insert (SQLite's rowid; an identity column in Postgres): the tie-breaker
    /// for rows with the same time, and the order of log lines.</summary>
    public string InsertionOrder { get; }

    /// <summary>The condition for a queued or running execution, as the database's indexes of live rows have it (in
    /// Postgres a generated column, so that those indexes do not name status and a status change can be a HOT update).</summary>
    public string Live { get; }

    /// <summary>A statement (parameter @lockKey) that holds, until the transaction ends, a lock on one key (a function's
    /// name), so two daemons on one database cannot both pick the same next version number. Null where the database
    /// allows one writer at a time anyway (SQLite).</summary>
    public string? KeyLockSql { get; }

    public bool IsUniqueViolation(DbException e) => _isUniqueViolation(e);

    private static readonly string LiveStatuses = $"status IN ('{ExecutionStatus.Queued}', '{ExecutionStatus.Running}')";

    /// <summary>SQLITE_CONSTRAINT_PRIMARYKEY (1555) or SQLITE_CONSTRAINT_UNIQUE (2067).</summary>
    public static readonly SqlDialect Sqlite = new("sqlite", "rowid", LiveStatuses,
        e => e is SqliteException { SqliteExtendedErrorCode: 1555 or 2067 }, null);

    public static readonly SqlDialect Postgres = new("postgres", "seq", "live",
        e => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation },
        "SELECT pg_advisory_xact_lock(hashtext(@lockKey))");
}
