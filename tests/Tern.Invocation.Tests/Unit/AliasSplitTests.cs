using Microsoft.Data.Sqlite;
using Tern.Core.Functions;
using Tern.Storage.Sql;
using Tern.Storage.Sqlite;
using Tern.Testing;
using Tern.Testing.FakeDriver;

namespace Tern.Invocation.Tests.Unit;

/// <summary>VersionResolver's weighted alias split, with its Random injected: a draw below the weight (out of 100) runs
/// the additional version.</summary>
public sealed class AliasSplitTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tern-alias-" + Guid.NewGuid().ToString("N"));
    private readonly SqlFunctionStore _functions;
    private readonly SqlVersionStore _versions;

    public AliasSplitTests()
    {
        Directory.CreateDirectory(_dir);
        var database = new SqliteDatabase(Path.Combine(_dir, "tern.db"));
        _functions = new SqlFunctionStore(database);
        _versions = new SqlVersionStore(database);
    }

    [Theory]
    [InlineData(0.00, 2)] // draws 0: under weight 10
    [InlineData(0.09, 2)] // draws 9
    [InlineData(0.10, 1)] // draws 10: not under it
    [InlineData(0.99, 1)]
    public async Task AnAliasWithWeight10_RunsItsAdditionalVersion_WhenTheDrawIsUnder10(double draw, int expected)
    {
        var v1 = PoolRig.Function("split");
        await _functions.CreateAsync(v1);
        await _versions.PublishAsync(v1, null, PoolRig.Epoch);
        await _versions.PublishAsync(v1 with { Revision = 2, CodeHash = new string('b', 64) }, null, PoolRig.Epoch);
        await _versions.PutAliasAsync(new FunctionAlias { Function = "split", Name = "prod", Version = 1, AdditionalVersion = 2, AdditionalWeight = 10 });
        var resolver = new VersionResolver(_functions, _versions, new FixedRandom(draw));

        var resolved = await resolver.ResolveAsync("split", "prod", CancellationToken.None);

        Assert.Equal(expected, resolved.PublishedVersion);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
