using System.Text;
using Tern.Core.Code;
using Tern.Storage.Code;
using Tern.Storage.Postgres;
using Tern.Storage.Tests.Contract;

namespace Tern.Storage.Tests.Postgres;

/// <summary>Code for several daemons on one Postgres (real server): what one daemon stores, another one (its own data
/// directory, so its own cache) finds, materialised on first use.</summary>
public sealed class PostgresCodeStoreTests : IAsyncLifetime
{
    private readonly PostgresBackend _backend = new();
    private readonly TempDir _first = new();
    private readonly TempDir _second = new();
    private PostgresCodeStore _uploader = null!;
    private PostgresCodeStore _other = null!;

    public async Task InitializeAsync()
    {
        await _backend.InitializeAsync(nameof(PostgresCodeStoreTests));
        _uploader = new PostgresCodeStore(new FileCodeStore(_first.Path), (PostgresDatabase)_backend.Open());
        _other = new PostgresCodeStore(new FileCodeStore(_second.Path), (PostgresDatabase)_backend.Open());
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        _first.Dispose();
        _second.Dispose();
    }

    [Fact]
    public async Task AZipStoredByOneDaemon_IsUnpackedIntoAnotherDaemonsCache_OnFirstUse()
    {
        var zip = Zips.Create(("main.py", "print(1)"), ("lib/util.py", "X = 1"));
        var stored = await _uploader.SaveAsync(new MemoryStream(zip));
        var code = new CodeRef(stored.Hash, null);
        Assert.False(Directory.Exists(Path.Combine(_second.Path, stored.Hash)));

        Assert.Null(_other.LocalPath(code)); // drivers ask synchronously: no database read there
        await _other.EnsureLocalAsync(code); // what the pool does before a worker starts
        var path = _other.LocalPath(code);

        Assert.Equal(Path.Combine(_second.Path, stored.Hash), path);
        Assert.Equal("X = 1", await File.ReadAllTextAsync(Path.Combine(path!, "lib", "util.py")));
        Assert.True(_other.ContainsHandler(stored.Hash, null, "main.py"));
        await using var package = await _other.OpenPackageAsync(code);
        using var copy = new MemoryStream();
        await package.CopyToAsync(copy);
        Assert.Equal(zip, copy.ToArray());
    }

    [Fact]
    public async Task ASingleFile_IsMaterialisedAsTheFile_AndCanBeMarkedExecutable()
    {
        var stored = await _uploader.SaveAsync(new MemoryStream(Encoding.UTF8.GetBytes("#!/bin/sh\necho hi\n")), unpackZip: false);

        await _other.EnsureLocalAsync(new CodeRef(stored.Hash, "run.sh"));
        Assert.True(_other.ContainsHandler(stored.Hash, "run.sh", "run.sh"));
        _other.MarkExecutable(stored.Hash, "run.sh", "run.sh");
        var path = _other.LocalPath(new CodeRef(stored.Hash, "run.sh"));
        Assert.Equal("#!/bin/sh\necho hi\n", await File.ReadAllTextAsync(path!));
        Assert.True(File.GetUnixFileMode(path!).HasFlag(UnixFileMode.UserExecute));
    }

    [Fact]
    public async Task SavingTheSameBytesOnTwoDaemons_StoresThemOnce()
    {
        var bytes = Encoding.UTF8.GetBytes("same");
        var a = await _uploader.SaveAsync(new MemoryStream(bytes), unpackZip: false);
        var b = await _other.SaveAsync(new MemoryStream(bytes), unpackZip: false);

        Assert.Equal(a.Hash, b.Hash);
        await using var connection = await _backend.Open().OpenConnectionAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*), sum(size) FROM code";
        await using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal((1L, 4L), (reader.GetInt64(0), Convert.ToInt64(reader.GetValue(1))));
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("../../etc/passwd")]
    public async Task AnUnknownOrMalformedReference_HasNoLocalPath(string hash)
    {
        await _other.EnsureLocalAsync(new CodeRef(hash, null));
        Assert.Null(_other.LocalPath(new CodeRef(hash, null)));
    }

    [Fact]
    public async Task ConcurrentFirstUses_OneCopyServesThemAll()
    {
        var stored = await _uploader.SaveAsync(new MemoryStream(Zips.Create(("main.py", "print(2)"))));
        var code = new CodeRef(stored.Hash, null);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _other.EnsureLocalAsync(code).AsTask()));

        Assert.Equal("print(2)", await File.ReadAllTextAsync(Path.Combine(_other.LocalPath(code)!, "main.py")));
    }
}
