using Npgsql;
using Tern.Storage.Postgres;

namespace Tern.Storage.Tests.Postgres;

public sealed class PostgresConnectionStringTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("sqlite", false)]
    [InlineData(" SQLite ", false)]
    [InlineData("postgres://h/db", true)]
    [InlineData("Host=h;Database=db", true)]
    public void IsPostgres_AnythingButSqlite(string? store, bool expected) => Assert.Equal(expected, PostgresConnectionString.IsPostgres(store));

    [Fact]
    public void Url_GivesHostPortDatabaseUserPasswordAndParameters()
    {
        var built = new NpgsqlConnectionStringBuilder(PostgresConnectionString.ToNpgsql(
            "postgres://tern:p%40ss@db.internal:6543/tern_prod?sslmode=require&Maximum%20Pool%20Size=20"));

        Assert.Equal(("db.internal", 6543, "tern_prod", "tern", "p@ss"), (built.Host, built.Port, built.Database, built.Username, built.Password));
        Assert.Equal((SslMode.Require, 20, 5), (built.SslMode, built.MaxPoolSize, built.Timeout));
    }

    [Fact]
    public void Keywords_AreNpgsqlsOwn_AndAGivenTimeoutIsKept()
    {
        var built = new NpgsqlConnectionStringBuilder(PostgresConnectionString.ToNpgsql("Host=10.0.0.5;Database=tern;Timeout=30"));
        Assert.Equal(("10.0.0.5", 5432, "tern", 30), (built.Host, built.Port, built.Database, built.Timeout));
    }

    [Fact]
    public void StatementsAreAutoPrepared_AndPooledConnectionsNotReset_ByDefault()
    {
        var built = new NpgsqlConnectionStringBuilder(PostgresConnectionString.ToNpgsql("postgres://h/db"));
        Assert.Equal((PostgresConnectionString.AutoPrepared, 2, true), (built.MaxAutoPrepare, built.AutoPrepareMinUsages, built.NoResetOnClose));
    }

    [Theory]
    [InlineData("postgres://h/db?Max%20Auto%20Prepare=0&Auto%20Prepare%20Min%20Usages=7&No%20Reset%20On%20Close=false", 0, 7, false)]
    [InlineData("Host=h;Database=db;MaxAutoPrepare=10;AutoPrepareMinUsages=3;NoResetOnClose=false", 10, 3, false)]
    public void WhatTheUserSet_IsKept_EvenZero(string store, int maxAutoPrepare, int minUsages, bool noReset)
    {
        var built = new NpgsqlConnectionStringBuilder(PostgresConnectionString.ToNpgsql(store));
        Assert.Equal((maxAutoPrepare, minUsages, noReset), (built.MaxAutoPrepare, built.AutoPrepareMinUsages, built.NoResetOnClose));
    }

    [Theory]
    [InlineData("postgres://", "malformed")]
    [InlineData("postgress", "expected 'sqlite', a postgres:// URL or Host=...;Database=... keywords")]
    [InlineData("Database=tern", "names no host")]
    [InlineData("Host=h;Colour=blue", "Colour")]
    [InlineData("postgres://u:secret@h/db?nonsense=1", "nonsense")]
    public void Unusable_IsRefusedWithTheReason_NeverThePassword(string store, string reason)
    {
        var e = Assert.Throws<StoreConnectionStringException>(() => PostgresConnectionString.ToNpgsql(store));
        Assert.Contains(reason, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secret", e.Message);
    }
}
