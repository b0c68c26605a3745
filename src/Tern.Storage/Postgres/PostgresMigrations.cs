using Tern.Core.Executions;
using Tern.Storage.Schema;

namespace Tern.Storage.Postgres;

/// <summary>Every table Tern keeps in Postgres, as numbered migrations per store (the same stores and columns as
/// <see cref="Sqlite.SqliteMigrations"/>, in Postgres types: times as bigint UTC ticks, flags as integer 0/1, so the
/// stores' SQL is the same on both). A <c>seq</c> identity column stands in for SQLite's rowid where insertion order is
/// read. Append; never edit a released step.</summary>
internal static class PostgresMigrations
{
    public static readonly StoreSchema Functions = new("functions",
    [
        new(1, "functions: name, config revision, definition as JSON", """
            CREATE TABLE functions (
                name        text PRIMARY KEY,
                version     integer NOT NULL,
                definition  text NOT NULL,
                updated_at  text NOT NULL
            );
            """),
    ]);

    /// <summary>The record as JSON text exactly as written (jsonb would refuse a \u0000 in a handler's output); the
    /// immutable fields are kept in their columns and read from there.</summary>
    public static readonly StoreSchema Executions = new("executions",
    [
        new(1, "execution records with their indexes", """
            CREATE TABLE executions (
                seq              bigint GENERATED ALWAYS AS IDENTITY,
                execution_id     text PRIMARY KEY,
                function         text NOT NULL,
                status           text NOT NULL,
                async            integer NOT NULL,
                dead_letter      integer NOT NULL,
                idempotency_key  text,
                created_at       bigint NOT NULL,
                finished_at      bigint,
                not_before       bigint,
                record           text NOT NULL
            );
            CREATE INDEX executions_by_status ON executions (status);
            CREATE INDEX executions_dead_letters ON executions (function, dead_letter, finished_at);
            CREATE INDEX executions_by_finished_at ON executions (finished_at);
            CREATE UNIQUE INDEX executions_idempotency_key ON executions (function, idempotency_key)
                WHERE idempotency_key IS NOT NULL;
            CREATE INDEX executions_by_created ON executions (created_at, execution_id);
            CREATE INDEX executions_by_function_created ON executions (function, created_at, execution_id);
            """),
        // Several daemons on one database claim async calls with leases (IExecutionLeases).
        new(2, "claims with leases for several daemons", $"""
            ALTER TABLE executions ADD COLUMN claimed_by text;
            ALTER TABLE executions ADD COLUMN lease_until bigint;
            CREATE INDEX executions_claimable ON executions (created_at, seq)
                WHERE async = 1 AND status IN ('{ExecutionStatus.Queued}', '{ExecutionStatus.Running}');
            """),
        // The claim and the backlog count read the claimable rows one function at a time (so a function a daemon skips,
        // having enough of its calls waiting, costs nothing to step over): the same rows, led by function.
        new(3, "claimable calls indexed by function", $"""
            CREATE INDEX executions_claimable_by_function ON executions (function, created_at, seq)
                WHERE async = 1 AND status IN ('{ExecutionStatus.Queued}', '{ExecutionStatus.Running}');
            DROP INDEX executions_claimable;
            """),
        // Fewer index writes per call. A row's liveness becomes a generated column, so the partial indexes no longer name
        // status: the claim and the queued -> running update (claimed_by, lease_until, status, record) change no indexed
        // column and can be HOT updates (fillfactor leaves them room on the row's page). The status index goes (the live
        // indexes serve recovery), and the finished-time and dead-letter indexes hold only the rows they are read for.
        // Adding the column rewrites the table once.
        new(4, "live rows as a generated column; partial indexes; room for HOT updates", $"""
            ALTER TABLE executions ADD COLUMN live boolean NOT NULL
                GENERATED ALWAYS AS (status IN ('{ExecutionStatus.Queued}', '{ExecutionStatus.Running}')) STORED;
            ALTER TABLE executions SET (fillfactor = 75);
            DROP INDEX executions_claimable_by_function;
            CREATE INDEX executions_claimable_by_function ON executions (function, created_at, seq) WHERE async = 1 AND live;
            CREATE INDEX executions_live_sync ON executions (created_at, seq) WHERE async = 0 AND live;
            DROP INDEX executions_by_status;
            DROP INDEX executions_by_finished_at;
            CREATE INDEX executions_by_finished_at ON executions (finished_at) WHERE finished_at IS NOT NULL;
            DROP INDEX executions_dead_letters;
            CREATE INDEX executions_dead_letters ON executions (function, finished_at) WHERE dead_letter = 1;
            """),
    ]);

    public static readonly StoreSchema ApiKeys = new("api_keys",
    [
        new(1, "api keys with roles", """
            CREATE TABLE api_keys (
                id                     text PRIMARY KEY,
                name                   text NOT NULL,
                prefix                 text NOT NULL,
                hash                   bytea NOT NULL,
                created_at             bigint NOT NULL,
                revoked_at             bigint,
                rate_limit_per_second  integer,
                role                   text NOT NULL DEFAULT 'admin',
                created_by             text
            );
            """),
    ]);

    public static readonly StoreSchema Secrets = new("secrets",
    [
        new(1, "encrypted secrets with their scopes", """
            CREATE TABLE secrets (
                name        text PRIMARY KEY,
                nonce       bytea NOT NULL,
                ciphertext  bytea NOT NULL,
                tag         bytea NOT NULL,
                created_at  text NOT NULL,
                updated_at  text NOT NULL,
                functions   text NOT NULL DEFAULT ''
            );
            """),
    ]);

    public static readonly StoreSchema Schedules = new("schedules",
    [
        new(1, "schedules with their indexes", """
            CREATE TABLE schedules (
                id                 text PRIMARY KEY,
                function           text NOT NULL,
                expression         text NOT NULL,
                timezone           text,
                payload            text NOT NULL,
                enabled            integer NOT NULL,
                next_run_at        bigint,
                last_run_at        bigint,
                last_execution_id  text,
                last_error         text,
                created_at         bigint NOT NULL
            );
            CREATE INDEX schedules_due ON schedules (enabled, next_run_at);
            CREATE INDEX schedules_by_function ON schedules (function);
            """),
    ]);

    public static readonly StoreSchema Versions = new("versions",
    [
        new(1, "published versions and aliases", """
            CREATE TABLE function_versions (
                function      text NOT NULL,
                version       integer NOT NULL,
                revision      integer NOT NULL,
                description   text,
                published_at  text NOT NULL,
                definition    text NOT NULL,
                PRIMARY KEY (function, version)
            );
            CREATE TABLE function_aliases (
                function            text NOT NULL,
                alias               text NOT NULL,
                version             integer NOT NULL,
                additional_version  integer,
                additional_weight   integer,
                previous_version    integer,
                description         text,
                updated_at          text NOT NULL,
                PRIMARY KEY (function, alias)
            );
            """),
    ]);

    public static readonly StoreSchema Logs = new("logs",
    [
        new(1, "log lines with their indexes", """
            CREATE TABLE logs (
                seq           bigint GENERATED ALWAYS AS IDENTITY,
                execution_id  text NOT NULL,
                function      text NOT NULL,
                ts            bigint NOT NULL,
                stream        text NOT NULL,
                text          text NOT NULL
            );
            CREATE INDEX logs_by_function ON logs (function, seq);
            CREATE INDEX logs_by_execution ON logs (execution_id);
            CREATE INDEX logs_by_ts ON logs (ts);
            """),
    ]);

    /// <summary>Code packages by sha256, so every daemon sharing the database can fetch what another one stored
    /// (<see cref="PostgresCodeStore"/>).</summary>
    public static readonly StoreSchema Code = new("code",
    [
        new(1, "code packages by hash", """
            CREATE TABLE code (
                hash        text PRIMARY KEY,
                content     bytea NOT NULL,
                size        bigint NOT NULL,
                created_at  bigint NOT NULL
            );
            """),
    ]);

    public static IReadOnlyList<StoreSchema> All => [Functions, Executions, ApiKeys, Secrets, Schedules, Versions, Logs, Code];
}
