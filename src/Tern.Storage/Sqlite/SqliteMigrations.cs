using Tern.Storage.Schema;

namespace Tern.Storage.Sqlite;

/// <summary>Every table Tern keeps in SQLite, as numbered migrations per store: the whole schema in one file.
/// Version 1 of each is the table as the first release made it (CREATE ... IF NOT EXISTS, so a database from before
/// schema versions takes it as a no-op); later versions are the changes since. Append; never edit a released step.</summary>
internal static class SqliteMigrations
{
    public static readonly StoreSchema Functions = new("functions",
    [
        new(1, "functions: name, config revision, definition as JSON", """
            CREATE TABLE IF NOT EXISTS functions (
                name        TEXT PRIMARY KEY,
                version     INTEGER NOT NULL,
                definition  TEXT NOT NULL,
                updated_at  TEXT NOT NULL
            );
            """),
    ]);

    /// <summary>Execution records: the queried fields as columns, the whole record as JSON. Times are UTC ticks (exact,
    /// and they sort); async and dead_letter are 0 or 1.</summary>
    public static readonly StoreSchema Executions = new("executions",
    [
        new(1, "execution records with their indexes", """
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
            """),
        // GET /v1/executions lists newest first, over all functions or one.
        new(2, "indexes for listing executions newest first", """
            CREATE INDEX IF NOT EXISTS executions_by_created ON executions (created_at, execution_id);
            CREATE INDEX IF NOT EXISTS executions_by_function_created ON executions (function, created_at, execution_id);
            """),
    ]);

    /// <summary>API keys: only the SHA-256 of a key, as a blob; times are UTC ticks.</summary>
    public static readonly StoreSchema ApiKeys = new("api_keys",
    [
        new(1, "api keys", """
            CREATE TABLE IF NOT EXISTS api_keys (
                id                     TEXT PRIMARY KEY,
                name                   TEXT NOT NULL,
                prefix                 TEXT NOT NULL,
                hash                   BLOB NOT NULL,
                created_at             INTEGER NOT NULL,
                revoked_at             INTEGER,
                rate_limit_per_second  INTEGER
            );
            """),
        // Keys from before roles could do everything: they become admin, so an upgrade locks nobody out.
        new(2, "roles and the key that created each key", """
            ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
            ALTER TABLE api_keys ADD COLUMN created_by TEXT;
            """),
    ]);

    /// <summary>Secrets: nonce, ciphertext and tag of AES-256-GCM, never the value.</summary>
    public static readonly StoreSchema Secrets = new("secrets",
    [
        new(1, "encrypted secrets", """
            CREATE TABLE IF NOT EXISTS secrets (
                name        TEXT PRIMARY KEY,
                nonce       BLOB NOT NULL,
                ciphertext  BLOB NOT NULL,
                tag         BLOB NOT NULL,
                created_at  TEXT NOT NULL,
                updated_at  TEXT NOT NULL
            );
            """),
        // Secrets from before scopes could be used by any function: they keep that ('*').
        new(2, "which functions may use each secret", """
            ALTER TABLE secrets ADD COLUMN functions TEXT NOT NULL DEFAULT '*';
            """),
    ]);

    /// <summary>Schedules: times are UTC ticks; enabled is 0 or 1.</summary>
    public static readonly StoreSchema Schedules = new("schedules",
    [
        new(1, "schedules with their indexes", """
            CREATE TABLE IF NOT EXISTS schedules (
                id                 TEXT PRIMARY KEY,
                function           TEXT NOT NULL,
                expression         TEXT NOT NULL,
                timezone           TEXT,
                payload            TEXT NOT NULL,
                enabled            INTEGER NOT NULL,
                next_run_at        INTEGER,
                last_run_at        INTEGER,
                last_execution_id  TEXT,
                last_error         TEXT,
                created_at         INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS schedules_due ON schedules (enabled, next_run_at);
            CREATE INDEX IF NOT EXISTS schedules_by_function ON schedules (function);
            """),
    ]);

    /// <summary>Published versions (immutable snapshots of a definition) and aliases pointing at them.</summary>
    public static readonly StoreSchema Versions = new("versions",
    [
        new(1, "published versions and aliases", """
            CREATE TABLE IF NOT EXISTS function_versions (
                function      TEXT NOT NULL,
                version       INTEGER NOT NULL,
                revision      INTEGER NOT NULL,
                description   TEXT,
                published_at  TEXT NOT NULL,
                definition    TEXT NOT NULL,
                PRIMARY KEY (function, version)
            );
            CREATE TABLE IF NOT EXISTS function_aliases (
                function            TEXT NOT NULL,
                alias               TEXT NOT NULL,
                version             INTEGER NOT NULL,
                additional_version  INTEGER,
                additional_weight   INTEGER,
                previous_version    INTEGER,
                description         TEXT,
                updated_at          TEXT NOT NULL,
                PRIMARY KEY (function, alias)
            );
            """),
    ]);

    /// <summary>Handlers' log lines; ts is UTC ticks.</summary>
    public static readonly StoreSchema Logs = new("logs",
    [
        new(1, "log lines with their indexes", """
            CREATE TABLE IF NOT EXISTS logs (
                execution_id  TEXT NOT NULL,
                function      TEXT NOT NULL,
                ts            INTEGER NOT NULL,
                stream        TEXT NOT NULL,
                text          TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS logs_by_function ON logs (function, ts);
            CREATE INDEX IF NOT EXISTS logs_by_execution ON logs (execution_id);
            """),
    ]);

    /// <summary>Every store, in the order their tables are made.</summary>
    public static IReadOnlyList<StoreSchema> All => [Functions, Executions, ApiKeys, Secrets, Schedules, Versions, Logs];
}
