using System.Text.Json.Nodes;
using Tern.Cli.Output;

namespace Tern.Cli.Tests;

public sealed class OutputWriterTests
{
    private readonly StringWriter _stdout = new();
    private readonly StringWriter _stderr = new();

    private OutputWriter Writer(OutputFormat format) => new(format, _stdout, _stderr);

    [Fact]
    public void WriteFunction_Table_ListsKeyValuePairsInFieldOrder()
    {
        Writer(OutputFormat.Table).WriteFunction(JsonNode.Parse(Samples.Function)!);

        var lines = _stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("KEY           VALUE", lines[0]);
        Assert.Equal("name          hello", lines[1]);
        Assert.Contains("codeFileName  -", lines);
        Assert.Contains("env           A=1, GREETING=hi there", lines);
        Assert.Contains("updatedAt     2025-01-02 03:04:06Z", lines);
        Assert.Equal("version       2", lines[^1]);
        Assert.Equal(20, lines.Length);
    }

    [Fact]
    public void WriteFunction_Json_PrintsIndentedJsonWithTheSameContent()
    {
        Writer(OutputFormat.Json).WriteFunction(JsonNode.Parse(Samples.Function)!);

        var printed = _stdout.ToString();
        Assert.StartsWith("{\n  \"name\": \"hello\",\n", printed);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Samples.Function), JsonNode.Parse(printed)));
    }

    [Fact]
    public void WriteFunction_Yaml_KeepsTypesAndQuotesAmbiguousStrings()
    {
        Writer(OutputFormat.Yaml).WriteFunction(JsonNode.Parse(Samples.Function)!);

        var lines = _stdout.ToString().Split('\n');
        Assert.Equal("name: hello", lines[0]);
        Assert.Contains("codeFileName: null", lines);
        Assert.Contains("memoryMb: 128", lines);
        Assert.Contains("env:", lines);
        Assert.Contains("  A: \"1\"", lines);
        Assert.Contains("  GREETING: hi there", lines);
        Assert.Contains("createdAt: \"2025-01-02T03:04:05.123+00:00\"", lines);
        Assert.Contains("version: 2", lines);
        Assert.DoesNotContain("...", lines);
    }

    [Fact]
    public void WriteFunctionList_Table_PrintsOneRowPerFunction()
    {
        Writer(OutputFormat.Table).WriteFunctionList(JsonNode.Parse(Samples.FunctionList)!);

        Assert.Equal("""
            NAME    RUNTIME  HANDLER    MEMORY  TIMEOUT  MODE        REVISION  UPDATED
            hello   python   main.py    128MB   30s      process     2         2025-01-02 03:04:06Z
            worker  binary   bootstrap  1024MB  1500ms   persistent  1         2025-02-01 00:00:00Z

            """, _stdout.ToString());
    }

    [Fact]
    public void WriteFunctionList_Empty_PrintsHeaderOnly()
    {
        Writer(OutputFormat.Table).WriteFunctionList(JsonNode.Parse("""{"functions":[]}""")!);

        Assert.Equal("NAME  RUNTIME  HANDLER  MEMORY  TIMEOUT  MODE  REVISION  UPDATED\n", _stdout.ToString());
    }

    [Fact]
    public void WriteInvocation_TableSuccess_PrintsIndentedOutputAndReturnsZero()
    {
        var code = Writer(OutputFormat.Table).WriteInvocation(JsonNode.Parse(Samples.InvokeSuccess)!);

        Assert.Equal(0, code);
        Assert.Equal("{\n  \"message\": \"Hello, tern!\"\n}\n", _stdout.ToString());
        Assert.Empty(_stderr.ToString());
    }

    [Fact]
    public void WriteInvocation_TableStringOutput_PrintsRawText()
    {
        var result = JsonNode.Parse("""{"status":"success","output":"line one\nsay \"hi\""}""")!;

        Writer(OutputFormat.Table).WriteInvocation(result);

        Assert.Equal("line one\nsay \"hi\"\n", _stdout.ToString());
    }

    [Theory]
    [InlineData("42", "42")]
    [InlineData("true", "true")]
    [InlineData("null", "null")]
    public void WriteInvocation_TableScalarOutput_PrintsJsonText(string output, string expected)
    {
        Writer(OutputFormat.Table).WriteInvocation(JsonNode.Parse($$"""{"status":"success","output":{{output}}}""")!);

        Assert.Equal(expected + "\n", _stdout.ToString());
    }

    [Fact]
    public void WriteInvocation_TableError_PrintsErrorLineToStderrAndReturnsOne()
    {
        var code = Writer(OutputFormat.Table).WriteInvocation(JsonNode.Parse(Samples.InvokeError)!);

        Assert.Equal(1, code);
        Assert.Empty(_stdout.ToString());
        Assert.Equal("error: error: HandlerFailed: handler exited with code 1: boom\n", _stderr.ToString());
    }

    [Fact]
    public void WriteInvocation_TimeoutWithoutErrorObject_PrintsStatusOnly()
    {
        var code = Writer(OutputFormat.Table).WriteInvocation(JsonNode.Parse("""{"status":"timeout","error":null}""")!);

        Assert.Equal(1, code);
        Assert.Equal("error: timeout\n", _stderr.ToString());
    }

    [Fact]
    public void WriteInvocation_JsonError_PrintsWholeResponseAndReturnsOne()
    {
        var code = Writer(OutputFormat.Json).WriteInvocation(JsonNode.Parse(Samples.InvokeError)!);

        Assert.Equal(1, code);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Samples.InvokeError), JsonNode.Parse(_stdout.ToString())));
        Assert.Empty(_stderr.ToString());
    }

    [Fact]
    public void WriteInvocation_YamlSuccess_PrintsWholeResponseAndReturnsZero()
    {
        var code = Writer(OutputFormat.Yaml).WriteInvocation(JsonNode.Parse(Samples.InvokeSuccess)!);

        Assert.Equal(0, code);
        Assert.Equal("""
            executionId: ex-1
            status: success
            output:
              message: Hello, tern!
            error: null
            durationMs: 12.5
            coldStart: true

            """, _stdout.ToString());
    }
}
