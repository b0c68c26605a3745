using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Tern.Storage.Sql;

namespace Tern.Storage.Sqlite;

/// <summary>Execution records in SQLite (<see cref="BatchedExecutionStore"/>; writes through <see cref="SqliteExecutionWriter"/>).
/// <para>Durability: the database runs in WAL mode with <c>synchronous=NORMAL</c>. A commit appends to the WAL file
/// with write(2) but does not fsync it, so a committed row survives the process being killed (SIGKILL, a crash: the
/// data is in the OS page cache and the next open replays the WAL), though not a power loss or kernel crash, which may
/// lose the last commits (never corrupting the file). That is the guarantee callers get when a task completes.
/// WAL lets reads run beside the writer.</para></summary>
internal sealed class SqliteExecutionStore : BatchedExecutionStore
{
    private readonly SqliteDatabase _database;

    public SqliteExecutionStore(SqliteDatabase database, ILogger<SqliteExecutionStore>? logger = null) : base(database, logger)
    {
        _database = database;
        StartWriter();
    }

    protected override IExecutionWriter CreateWriter() => new SqliteExecutionWriter(_database);

    /// <summary>Busy (another process holds the lock past the timeout), full, I/O, read-only or damaged file.</summary>
    protected override bool IsEnvironmental(Exception e) =>
        e is SqliteException { SqliteErrorCode: 5 or 6 or 7 or 8 or 10 or 11 or 13 or 14 or 26 };
}
