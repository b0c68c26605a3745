using System.Data.Common;
using Npgsql;

namespace Tern.Storage.Postgres;

/// <summary>The <c>store</c> setting: <c>sqlite</c> (the default: a file in the data directory) or a Postgres
/// connection string, as a URL (<c>postgres://user:password@host:port/database?sslmode=...</c>) or in Npgsql's
/// keyword form (<c>Host=...;Database=...</c>).</summary>
public static class PostgresConnectionString
{
    public const string Sqlite = "sqlite";

    /// <summary>True when <paramref name="store"/> names Postgres (a URL or keywords), false for SQLite.</summary>
    public static bool IsPostgres(string? store) =>
        !string.IsNullOrWhiteSpace(store) && !store.Trim().Equals(Sqlite, StringComparison.OrdinalIgnoreCase);

    /// <summary>The Npgsql connection string for a store setting; throws <see cref="StoreConnectionStringException"/>
    /// (never quoting a password) when it cannot be one.</summary>
    public static string ToNpgsql(string store)
    {
        store = store.Trim();
        var builder = store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            ? FromUrl(store)
            : FromKeywords(store);
        if (string.IsNullOrEmpty(builder.Host)) throw new StoreConnectionStringException("it names no host");
        // A daemon that cannot reach the store answers 503 rather than waiting long on each request.
        if (!store.Contains("timeout", StringComparison.OrdinalIgnoreCase)) builder.Timeout = 5;
        // The keywords the user's string set (to any value, 0 included): Npgsql writes every keyword it was given under
        // its canonical name, whichever synonym the user wrote.
        var given = new DbConnectionStringBuilder { ConnectionString = builder.ConnectionString };
        // The store sends the same few statements thousands of times a second: prepared once per connection, the server
        // skips parsing and planning them (unprepared, parsing was a visible share of the server's CPU under load).
        if (!given.ContainsKey("Max Auto Prepare")) builder.MaxAutoPrepare = AutoPrepared;
        if (!given.ContainsKey("Auto Prepare Min Usages")) builder.AutoPrepareMinUsages = 2;
        // A pooled connection is otherwise reset each time it is reused (four statements: RESET ALL and the like, parsed
        // every time); Tern keeps no session state on pooled connections (the leader's advisory lock has its own).
        if (!given.ContainsKey("No Reset On Close")) builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }

    /// <summary>Statements each connection keeps prepared (Npgsql's Max Auto Prepare) unless the setting names its own:
    /// the stores use a few dozen distinct statements.</summary>
    public const int AutoPrepared = 64;

    private static NpgsqlConnectionStringBuilder FromKeywords(string text)
    {
        if (!text.Contains('=', StringComparison.Ordinal))
            throw new StoreConnectionStringException("expected 'sqlite', a postgres:// URL or Host=...;Database=... keywords");
        try
        {
            return new NpgsqlConnectionStringBuilder(text);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            throw new StoreConnectionStringException(e.Message);
        }
    }

    private static NpgsqlConnectionStringBuilder FromUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || string.IsNullOrEmpty(url.Host))
            throw new StoreConnectionStringException("the postgres:// URL is malformed");
        var builder = new NpgsqlConnectionStringBuilder { Host = url.Host, Port = url.Port > 0 ? url.Port : 5432 };
        var database = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/'));
        if (database.Length > 0) builder.Database = database;
        if (url.UserInfo.Length > 0)
        {
            var colon = url.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? url.UserInfo : url.UserInfo[..colon]);
            if (colon >= 0) builder.Password = Uri.UnescapeDataString(url.UserInfo[(colon + 1)..]);
        }
        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            try
            {
                builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = value;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
            {
                throw new StoreConnectionStringException($"the URL parameter '{key}' is not understood: {e.Message}");
            }
        }
        return builder;
    }
}

/// <summary>The store setting is not a usable connection string: the daemon cannot start.</summary>
public sealed class StoreConnectionStringException(string reason)
    : Exception($"the store setting is not a usable Postgres connection string: {reason}");
