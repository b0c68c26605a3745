using System.Text.Json.Nodes;
using Tern.Cli.Project;

namespace Tern.Cli.Tests;

/// <summary>Reading tern.yaml: the documented schema, and one clear error line (with its line number) for bad input.</summary>
public sealed class ProjectFileTests
{
    [Fact]
    public void Parse_DocumentedExample_ReadsEveryField()
    {
        var project = ProjectFileReader.Parse("""
            functions:
              - name: hello
                runtime: python
                code: .
                handler: main.py
                memoryMb: 128
                env: {GREETING: hi, PORT: 8080}
                aliases:
                  prod: {version: 1}
                  beta: {version: 1, additionalVersion: 2, additionalWeight: 10}
                schedules:
                  - expression: "@every 5m"
                    timezone: UTC
                    payload: {ping: true, n: 3, s: "3", list: [1, x], none: null}
            """, "tern.yaml");

        var f = Assert.Single(project.Functions!);
        Assert.Equal("hello", f.Name);
        Assert.Equal(".", f.Code);
        Assert.Equal(128, f.MemoryMb);
        Assert.Equal("8080", f.Env!["PORT"]);
        Assert.Equal(1, f.Aliases!["prod"].Version);
        Assert.Equal(10, f.Aliases!["beta"].AdditionalWeight);
        var s = Assert.Single(f.Schedules!);
        Assert.Equal("@every 5m", s.Expression);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"ping":true,"n":3,"s":"3","list":[1,"x"],"none":null}"""), s.Payload));
    }

    [Fact]
    public void Parse_UnknownKey_ErrorNamesKeyAndLine()
    {
        var e = Assert.Throws<CliException>(() => ProjectFileReader.Parse("""
            functions:
              - name: hello
                memoryMB: 256
            """, "tern.yaml"));
        Assert.Equal("tern.yaml: line 3, column 5: unknown key 'memoryMB'", e.Message);
    }

    [Fact]
    public void Parse_WrongType_ErrorHasLine()
    {
        var e = Assert.Throws<CliException>(() => ProjectFileReader.Parse("functions:\n  - name: hello\n    memoryMb: lots\n", "f.yaml"));
        Assert.StartsWith("f.yaml: line 3,", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void Parse_InvalidYaml_ErrorHasLine()
    {
        var e = Assert.Throws<CliException>(() => ProjectFileReader.Parse("functions:\n  - name: [hello\n", "f.yaml"));
        Assert.StartsWith("f.yaml: line ", e.Message);
    }

    [Theory]
    [InlineData("", "no functions")]
    [InlineData("functions:\n  - runtime: python\n", "has no name")]
    [InlineData("functions:\n  - name: a\n  - name: a\n", "listed twice")]
    [InlineData("functions:\n  - name: a\n    aliases: {prod: {additionalVersion: 2}}\n", "has no version")]
    public void Parse_InvalidContent_ClearError(string yaml, string expected)
    {
        var e = Assert.Throws<CliException>(() => ProjectFileReader.Parse(yaml, "tern.yaml"));
        Assert.Contains(expected, e.Message);
    }
}
