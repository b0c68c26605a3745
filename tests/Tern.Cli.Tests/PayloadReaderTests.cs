using Tern.Cli.Commands;

namespace Tern.Cli.Tests;

public sealed class PayloadReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Read_Data_WinsOverStdin()
    {
        Assert.Equal("""{"a":1}""", PayloadReader.Read("""{"a":1}""", null, new StringReader("""{"b":2}""")));
    }

    [Fact]
    public void Read_File_ReturnsItsContent()
    {
        var path = _dir.Write("event.json", """[1, 2, 3]""");

        Assert.Equal("[1, 2, 3]", PayloadReader.Read(null, path, null));
    }

    [Fact]
    public void Read_FileDash_ReadsStdin()
    {
        Assert.Equal("\"hi\"", PayloadReader.Read(null, "-", new StringReader("\"hi\"")));
    }

    [Fact]
    public void Read_RedirectedStdin_ReturnsIt()
    {
        Assert.Equal("""{"x":true}""", PayloadReader.Read(null, null, new StringReader("""{"x":true}""")));
    }

    [Fact]
    public void Read_EmptyRedirectedStdin_ReturnsEmptyObject()
    {
        Assert.Equal("{}", PayloadReader.Read(null, null, new StringReader("  \n")));
    }

    [Fact]
    public void Read_NothingGivenOnTerminal_ReturnsEmptyObject()
    {
        Assert.Equal("{}", PayloadReader.Read(null, null, null));
    }

    [Fact]
    public void Read_InvalidDataJson_ThrowsCliExceptionNamingTheSource()
    {
        var e = Assert.Throws<CliException>(() => PayloadReader.Read("{name: 1}", null, null));

        Assert.StartsWith("the payload from -d is not valid JSON: ", e.Message);
        Assert.Equal(ExitCodes.Failure, e.ExitCode);
    }

    [Fact]
    public void Read_InvalidFileJson_ThrowsCliExceptionNamingTheFile()
    {
        var path = _dir.Write("bad.json", "not json");

        var e = Assert.Throws<CliException>(() => PayloadReader.Read(null, path, null));

        Assert.StartsWith($"the payload from file '{path}' is not valid JSON", e.Message);
    }

    [Fact]
    public void Read_MissingFile_ThrowsCliException()
    {
        var path = Path.Combine(_dir.Path, "missing.json");

        var e = Assert.Throws<CliException>(() => PayloadReader.Read(null, path, null));

        Assert.Equal($"payload file '{path}' does not exist", e.Message);
    }
}
