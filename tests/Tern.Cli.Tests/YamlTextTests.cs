using System.Text.Json.Nodes;
using Tern.Cli.Output;

namespace Tern.Cli.Tests;

public sealed class YamlTextTests
{
    [Fact]
    public void Format_StringsThatLookLikeOtherTypes_AreQuoted()
    {
        var yaml = YamlText.Format(JsonNode.Parse("""["true","123","","null","yes","1.5e3","plain text",true,123]"""));

        Assert.Equal("""
            - "true"
            - "123"
            - ""
            - "null"
            - "yes"
            - "1.5e3"
            - plain text
            - true
            - 123
            """, yaml);
    }

    [Fact]
    public void Format_NestedObjectsAndEmptyCollections_UseBlockAndFlowStyles()
    {
        var yaml = YamlText.Format(JsonNode.Parse("""{"a":{"b":[1,{"c":"d"}]},"empty":{},"none":[]}"""));

        Assert.Equal("""
            a:
              b:
              - 1
              - c: d
            empty: {}
            none: []
            """, yaml);
    }

    [Fact]
    public void Format_MultilineString_RoundTripsThroughAYamlReader()
    {
        var yaml = YamlText.Format(JsonNode.Parse("""{"msg":"line one\nline: two"}"""));

        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlDotNet.RepresentationModel.YamlMappingNode)stream.Documents[0].RootNode;
        Assert.Equal("line one\nline: two", ((YamlDotNet.RepresentationModel.YamlScalarNode)root.Children["msg"]).Value);
    }
}
