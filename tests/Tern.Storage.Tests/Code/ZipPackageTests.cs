using System.Text;
using Tern.Storage.Code;

namespace Tern.Storage.Tests.Code;

public sealed class ZipPackageTests : IDisposable
{
    /// <summary>Writes the archive to a file and unpacks it, as the code store does.</summary>
    private static void Extract(byte[] zip, string destination)
    {
        var file = Path.Combine(Path.GetTempPath(), $"tern-zip-{Guid.NewGuid():N}.zip");
        File.WriteAllBytes(file, zip);
        try { ZipPackage.ExtractTo(file, destination); }
        finally { File.Delete(file); }
    }

    private const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Mode0755 = Mode0644 | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private readonly TempDir _temp = new();
    private string Dest => _temp.Combine("out");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void IsZip_ZipArchive_ReturnsTrue()
    {
        Assert.True(ZipPackage.IsZip(Zips.Create(("a.txt", "hello"))));
    }

    [Theory]
    [InlineData("print('hello')")]
    [InlineData("PK")]
    [InlineData("PK\u0001\u0002 central directory, not a local header")]
    [InlineData("")]
    public void IsZip_NotAZip_ReturnsFalse(string text)
    {
        Assert.False(ZipPackage.IsZip(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void ExtractTo_NestedDirectories_WritesEveryFile()
    {
        var zip = Zips.Create(
            new Zips.Entry("main.py", "print(1)"),
            new Zips.Entry("lib/"),
            new Zips.Entry("lib/util.py", "X = 1"),
            new Zips.Entry("lib/deep/er/data.json", "{}"),
            new Zips.Entry("empty-dir/"));

        Extract(zip, Dest);

        Assert.Equal("print(1)", File.ReadAllText(Path.Combine(Dest, "main.py")));
        Assert.Equal("X = 1", File.ReadAllText(Path.Combine(Dest, "lib", "util.py")));
        Assert.Equal("{}", File.ReadAllText(Path.Combine(Dest, "lib", "deep", "er", "data.json")));
        Assert.True(Directory.Exists(Path.Combine(Dest, "empty-dir")));
        Assert.Equal(3, Directory.GetFiles(Dest, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void ExtractTo_DirectoriesWithoutExplicitEntries_AreCreated()
    {
        Extract(Zips.Create(("a/b/c.txt", "c")), Dest);

        Assert.Equal("c", File.ReadAllText(Path.Combine(Dest, "a", "b", "c.txt")));
    }

    [Fact]
    public void ExtractTo_Directories_AreTraversableByOthers()
    {
        Extract(Zips.Create(("a/b/c.txt", "c")), Dest);

        Assert.Equal(Mode0755, File.GetUnixFileMode(Dest));
        Assert.Equal(Mode0755, File.GetUnixFileMode(Path.Combine(Dest, "a")));
        Assert.Equal(Mode0755, File.GetUnixFileMode(Path.Combine(Dest, "a", "b")));
    }

    [Theory]
    [InlineData("../evil.txt")]
    [InlineData("a/../../evil.txt")]
    [InlineData("a/../b.txt")]
    [InlineData("/etc/evil.txt")]
    [InlineData("a\\b.txt")]
    [InlineData("./a.txt")]
    public void ExtractTo_EntryEscapingTheRoot_ThrowsAndWritesNothing(string name)
    {
        var zip = Zips.Create(("ok.txt", "fine"), (name, "evil"));

        var e = Assert.Throws<InvalidCodePackageException>(() => Extract(zip, Dest));

        Assert.Contains("escapes the package root", e.Message);
        Assert.False(Directory.Exists(Dest), "entries are checked before anything is written");
        Assert.False(File.Exists(Path.Combine(_temp.Path, "evil.txt")));
    }

    [Fact]
    public void ExtractTo_SymlinkEntry_ThrowsAndWritesNothing()
    {
        var zip = Zips.Create(
            new Zips.Entry("ok.txt", "fine"),
            new Zips.Entry("link", "/etc/passwd", UnixMode: Zips.Symlink | 0b111_111_111));

        var e = Assert.Throws<InvalidCodePackageException>(() => Extract(zip, Dest));

        Assert.Contains("symbolic link", e.Message);
        Assert.False(Directory.Exists(Dest));
    }

    [Fact]
    public void ExtractTo_ExecutableBitInExternalAttributes_IsKept()
    {
        var zip = Zips.Create(
            new Zips.Entry("bootstrap", "#!/bin/sh", UnixMode: Zips.RegularFile | 0b111_101_101),
            new Zips.Entry("user-x-only", "#!/bin/sh", UnixMode: Zips.RegularFile | 0b111_000_000),
            new Zips.Entry("data.txt", "data", UnixMode: Zips.RegularFile | 0b110_100_100),
            new Zips.Entry("private.txt", "secret", UnixMode: Zips.RegularFile | 0b110_000_000),
            new Zips.Entry("no-attributes.txt", "plain"));

        Extract(zip, Dest);

        Assert.Equal(Mode0755, File.GetUnixFileMode(Path.Combine(Dest, "bootstrap")));
        Assert.Equal(Mode0755, File.GetUnixFileMode(Path.Combine(Dest, "user-x-only")));
        Assert.Equal(Mode0644, File.GetUnixFileMode(Path.Combine(Dest, "data.txt")));
        Assert.Equal(Mode0644, File.GetUnixFileMode(Path.Combine(Dest, "private.txt")));
        Assert.Equal(Mode0644, File.GetUnixFileMode(Path.Combine(Dest, "no-attributes.txt")));
    }

    // Known src bug: a duplicate entry name (or a file "a" next to "a/b") passes the checks and then fails in
    // ExtractToFile/CreateDirectory with a raw IOException, which the API turns into a 500 instead of a 400.
    [Theory]
    [InlineData("a.txt", "a.txt")]
    [InlineData("a", "a/b")]
    public void ExtractTo_DuplicateOrClashingEntryNames_ThrowsInvalidCodePackage(string first, string second)
    {
        var zip = Zips.Create((first, "1"), (second, "2"));

        Assert.Throws<InvalidCodePackageException>(() => Extract(zip, Dest));
    }

    [Fact]
    public void ExtractTo_NotAZip_ThrowsInvalidCodePackage()
    {
        var content = "PK\u0003\u0004 but then garbage"u8.ToArray();

        var e = Assert.Throws<InvalidCodePackageException>(() => Extract(content, Dest));

        Assert.Contains("not a readable zip", e.Message);
    }
}
