using Microsoft.Data.Sqlite;

namespace Tern.Storage.Sqlite;

/// <summary>The embedded database file and its schema. WAL mode lets readers run beside the one writer.</summary>
public sealed class SqliteDatabase
{
    private readonly string _connectionString;

    public SqliteDatabase(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS functions (
                name        TEXT PRIMARY KEY,
                version     INTEGER NOT NULL,
                definition  TEXT NOT NULL,
                updated_at  TEXT NOT NULL
            );
            -- Execution records (SqliteExecutionStore): the queried fields as columns, the whole record as JSON.
            -- Times are UTC ticks (exact, and they sort). async/dead_letter are 0 or 1.
            CREATE TABLE IF NOT EXISTS executions (
                execution_id     TEXT PRIMARY KEY,
                function         TEXT NOT NULL,
                status           TEXT NOT NULL,
                async            INTEGER NOT NULL,
                dead_letter      INTEGER NOT NULL,
                idempotency_key  TEXT,
                created_at       INTEGER NOT NULL,
                finished_at      INTEGER,
                not_before       INTEGER,
                record           TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
            CREATE INDEX IF NOT EXISTS executions_dead_letters ON executions (function, dead_letter, finished_at);
            CREATE INDEX IF NOT EXISTS executions_by_finished_at ON executions (finished_at);
            CREATE UNIQUE INDEX IF NOT EXISTS executions_idempotency_key ON executions (function, idempotency_key)
                WHERE idempotency_key IS NOT NULL;
            """);
    }

    /// <summary>A connection of its own (not from the pool), for a caller that drives transactions by hand.</summary>
    public SqliteConnection OpenUnpooled()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(_connectionString) { Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
