using Tern.Core.Code;
using System.Security.Cryptography;
using System.Text;
using Tern.Storage.Code;

namespace Tern.Storage.Tests.Code;

public sealed class FileCodeStoreTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FileCodeStore _store;

    public FileCodeStoreTests() => _store = new FileCodeStore(_temp.Combine("code"));

    public void Dispose() => _temp.Dispose();

    private string Root => _temp.Combine("code");

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private Task<StoredCode> Save(byte[] bytes, bool unpackZip = true) => _store.SaveAsync(new MemoryStream(bytes), unpackZip);

    [Fact]
    public void Constructor_MissingRoot_CreatesIt()
    {
        Assert.True(Directory.Exists(Root));
    }

    [Fact]
    public async Task SaveAsync_SameBytesTwice_SameHashAndOneBlob()
    {
        var bytes = Encoding.UTF8.GetBytes("print('hi')");

        var first = await Save(bytes);
        var second = await Save(bytes);

        Assert.Equal(first.Hash, second.Hash);
        Assert.Equal(Sha256(bytes), first.Hash);
        var blob = Assert.Single(Directory.GetFiles(Root));
        Assert.Equal(first.Hash + ".blob", Path.GetFileName(blob));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(blob));
        Assert.Empty(Directory.GetDirectories(Root));
    }

    [Fact]
    public async Task SaveAsync_DifferentBytes_DifferentHashes()
    {
        var a = await Save("a"u8.ToArray());
        var b = await Save("b"u8.ToArray());

        Assert.NotEqual(a.Hash, b.Hash);
        Assert.Equal(2, Directory.GetFiles(Root).Length);
    }

    [Fact]
    public async Task SaveAsync_Zip_UnpacksAndLocalPathIsTheDirectory_AndThePackageIsTheZip()
    {
        var zip = Zips.Create(("main.py", "print(1)"), ("lib/util.py", "X = 1"));

        var stored = await Save(zip);
        var path = _store.LocalPath(new CodeRef(stored.Hash, null));

        Assert.True(stored.IsZip);
        Assert.Equal(Sha256(zip), stored.Hash);
        Assert.Equal(Path.Combine(Root, stored.Hash), path);
        Assert.Equal("print(1)", File.ReadAllText(Path.Combine(path!, "main.py")));
        Assert.Equal("X = 1", File.ReadAllText(Path.Combine(path!, "lib", "util.py")));
        await using var package = await _store.OpenPackageAsync(new CodeRef(stored.Hash, null));
        using var copy = new MemoryStream();
        await package.CopyToAsync(copy);
        Assert.Equal(zip, copy.ToArray()); // what a driver without the host's disk ships
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // not stored
    [InlineData("../../etc")]
    [InlineData("ABCDEF0000000000000000000000000000000000000000000000000000000000")] // not lowercase hex
    public async Task UnknownOrMalformedReference_HasNoLocalPath_AndNoPackage(string hash)
    {
        Assert.Null(_store.LocalPath(new CodeRef(hash, null)));
        Assert.Null(_store.LocalPath(new CodeRef(hash, "main.py")));
        await Assert.ThrowsAnyAsync<IOException>(() => _store.OpenPackageAsync(new CodeRef(hash, null)));
    }

    [Fact]
    public async Task SaveAsync_SameZipTwice_OnePackageDirectory()
    {
        var zip = Zips.Create(("main.py", "print(1)"));

        await Save(zip);
        var again = await Save(zip);

        Assert.True(again.IsZip);
        Assert.Equal(again.Hash, Path.GetFileName(Assert.Single(Directory.GetDirectories(Root))));
        Assert.Single(Directory.GetFiles(Root));
    }

    [Fact]
    public async Task SaveAsync_SingleFile_LocalPathIsTheBlob()
    {
        var bytes = "console.log(1)"u8.ToArray();

        var stored = await Save(bytes);
        var path = _store.LocalPath(new CodeRef(stored.Hash, "index.js"));

        Assert.False(stored.IsZip);
        Assert.Equal(Path.Combine(Root, stored.Hash + ".blob"), path);
        Assert.Equal(bytes, File.ReadAllBytes(path!));
        Assert.Empty(Directory.GetDirectories(Root));
    }

    [Fact]
    public async Task SaveAsync_SingleFile_BlobIsExecutable()
    {
        var stored = await Save("\u007fELF..."u8.ToArray());

        var mode = File.GetUnixFileMode(_store.LocalPath(new CodeRef(stored.Hash, "bootstrap"))!);

        Assert.True(mode.HasFlag(UnixFileMode.UserExecute));
        Assert.True(mode.HasFlag(UnixFileMode.OtherExecute));
        Assert.True(mode.HasFlag(UnixFileMode.OtherRead));
    }

    [Fact]
    public async Task SaveAsync_UnpackZipFalse_KeepsAJarAsASingleFile()
    {
        var jar = Zips.Create(("META-INF/MANIFEST.MF", "Main-Class: App\n"), ("App.class", "\u00ca\u00fe"));

        var stored = await Save(jar, unpackZip: false);
        var path = _store.LocalPath(new CodeRef(stored.Hash, "app.jar"));

        Assert.False(stored.IsZip);
        Assert.Empty(Directory.GetDirectories(Root));
        Assert.Equal(jar, File.ReadAllBytes(path!));
    }

    [Fact]
    public async Task ContainsHandler_ZipPackage_ChecksTheFileExists()
    {
        var stored = await Save(Zips.Create(("main.py", "x"), ("src/app.py", "y")));

        Assert.True(_store.ContainsHandler(stored.Hash, null, "main.py"));
        Assert.True(_store.ContainsHandler(stored.Hash, null, "src/app.py"));
        Assert.False(_store.ContainsHandler(stored.Hash, null, "missing.py"));
        Assert.False(_store.ContainsHandler(stored.Hash, null, "src"));
    }

    [Fact]
    public async Task ContainsHandler_SingleFile_MatchesOnlyItsName()
    {
        var stored = await Save("print(1)"u8.ToArray());

        Assert.True(_store.ContainsHandler(stored.Hash, "main.py", "main.py"));
        Assert.False(_store.ContainsHandler(stored.Hash, "main.py", "other.py"));
    }

    [Fact]
    public async Task MarkExecutable_ZipEntryWithoutExecBit_BecomesExecutable()
    {
        var stored = await Save(Zips.Create(("bootstrap", "#!/bin/sh")));
        var path = Path.Combine(_store.LocalPath(new CodeRef(stored.Hash, null))!, "bootstrap");
        Assert.False(File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute));

        _store.MarkExecutable(stored.Hash, null, "bootstrap");

        Assert.True(File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute));
    }

    [Fact]
    public async Task SaveAsync_EmptyContent_ThrowsInvalidCodePackage()
    {
        await Assert.ThrowsAsync<InvalidCodePackageException>(() => Save([]));

        Assert.Empty(Directory.EnumerateFileSystemEntries(Root));
    }

    [Fact]
    public async Task SaveAsync_ZipWithEscapingEntry_ThrowsAndLeavesNoPackageDirectory()
    {
        var zip = Zips.Create(("main.py", "x"), ("../evil.py", "y"));

        await Assert.ThrowsAsync<InvalidCodePackageException>(() => Save(zip));

        Assert.Empty(Directory.GetDirectories(Root));
        Assert.False(Directory.Exists(Path.Combine(Root, Sha256(zip))));
        Assert.False(File.Exists(Path.Combine(_temp.Path, "evil.py")));
    }

    [Fact]
    public async Task SaveAsync_CorruptZip_ThrowsAndLeavesNoPackageDirectory()
    {
        var content = "PK\u0003\u0004 this is not really a zip"u8.ToArray();

        await Assert.ThrowsAsync<InvalidCodePackageException>(() => Save(content));

        Assert.Empty(Directory.GetDirectories(Root));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Root), p => p.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SaveAsync_ZipWithAFlippedByte_FailsItsCrc_AndLeavesNothing()
    {
        // Stored (not deflated) entries have nothing but the CRC to tell a changed byte: it must be checked.
        var zip = Zips.CreateStored(("main.py", "print('the real code')"));
        var at = System.Text.Encoding.ASCII.GetString(zip).IndexOf("real", StringComparison.Ordinal);
        zip[at] ^= 0x20; // "real" -> "Real"

        var e = await Assert.ThrowsAsync<InvalidCodePackageException>(() => Save(zip));

        Assert.Contains("CRC", e.Message);
        Assert.Empty(Directory.GetDirectories(Root));
        Assert.Empty(Directory.GetFiles(Root));
    }

    [Fact]
    public async Task SaveAsync_MoreThanTheLimit_IsRefusedWhileStreaming()
    {
        var e = await Assert.ThrowsAsync<InvalidCodePackageException>(() =>
            _store.SaveAsync(new MemoryStream(new byte[Tern.Core.Functions.FunctionLimits.MaxCodeBytes + 1])));
        Assert.Contains("larger than", e.Message);
        Assert.Empty(Directory.GetFiles(Root));
    }
}
