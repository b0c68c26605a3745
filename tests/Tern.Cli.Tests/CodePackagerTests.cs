using System.IO.Compression;
using Tern.Cli.Packaging;

namespace Tern.Cli.Tests;

public sealed class CodePackagerTests : IDisposable
{
    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Package_Directory_ZipsWithRelativePathsAndExecBit()
    {
        var code = Path.Combine(_dir.Path, "code");
        _dir.Write("code/bootstrap", "#!/bin/sh\necho hi\n", Executable);
        _dir.Write("code/lib/util.py", "x = 1\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var package = CodePackager.Package(code);

        Assert.Null(package.FileName);
        using var zip = new ZipArchive(new MemoryStream(package.Bytes));
        Assert.Equal(["bootstrap", "lib/util.py"], zip.Entries.Select(e => e.FullName).Order());
        var bootstrap = zip.GetEntry("bootstrap")!;
        Assert.Equal(0x8000 | (int)Executable, (bootstrap.ExternalAttributes >> 16) & 0xFFFF);
        var util = zip.GetEntry("lib/util.py")!;
        Assert.Equal(0x8000 | 0b110_000_000, (util.ExternalAttributes >> 16) & 0xFFFF);
        using var reader = new StreamReader(bootstrap.Open());
        Assert.Equal("#!/bin/sh\necho hi\n", reader.ReadToEnd());
    }

    [Fact]
    public void Package_DirectoryWithGitFolder_LeavesGitOut()
    {
        _dir.Write("code/main.py", "");
        _dir.Write("code/.git/HEAD", "ref: refs/heads/main\n");
        _dir.Write("code/.env.example", "A=1\n");

        var package = CodePackager.Package(Path.Combine(_dir.Path, "code"));

        using var zip = new ZipArchive(new MemoryStream(package.Bytes));
        Assert.Equal([".env.example", "main.py"], zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Package_EmptyDirectory_ThrowsCliException()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_dir.Path, "empty")).FullName;

        var e = Assert.Throws<CliException>(() => CodePackager.Package(empty));
        Assert.Contains("contains no files", e.Message);
    }

    [Fact]
    public void Package_ZipFile_PassesBytesThroughWithoutFileName()
    {
        var path = Path.Combine(_dir.Path, "code.ZIP");
        byte[] bytes = [0x50, 0x4B, 0x03, 0x04, 1, 2, 3];
        File.WriteAllBytes(path, bytes);

        var package = CodePackager.Package(path);

        Assert.Equal(bytes, package.Bytes);
        Assert.Null(package.FileName);
    }

    [Fact]
    public void Package_SingleFile_SendsBytesAndSetsCodeFileName()
    {
        var path = _dir.Write("handler.js", "exports.handler = async e => e;");

        var package = CodePackager.Package(path);

        Assert.Equal("handler.js", package.FileName);
        Assert.Equal("exports.handler = async e => e;"u8.ToArray(), package.Bytes);
    }

    [Fact]
    public void Package_MissingPath_ThrowsCliExceptionNamingIt()
    {
        var missing = Path.Combine(_dir.Path, "nope");

        var e = Assert.Throws<CliException>(() => CodePackager.Package(missing));
        Assert.Equal($"code path '{missing}' does not exist", e.Message);
        Assert.Equal(ExitCodes.Failure, e.ExitCode);
    }
}
