using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tern.Json.Tests;

public sealed partial class RawJsonTests
{
    [Theory]
    [InlineData("{}")]
    [InlineData("  [1, 2, {\"a\": null}]\n")]
    [InlineData("\"é\"")]
    [InlineData("-1.5e3")]
    [InlineData("null")]
    public void TryCreate_OneJsonValue_KeepsItsBytes(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Assert.True(RawJson.TryCreate(bytes, out var json, out var error), error);
        Assert.Equal(text, json.ToString());
    }

    [Theory]
    [InlineData("", "no JSON value")]
    [InlineData("{", "")]
    [InlineData("{} {}", "")]
    [InlineData("{'a':1}", "")]
    [InlineData("[1,]", "")]
    public void TryCreate_NotOneJsonValue_IsRefusedWithAReason(string text, string reason)
    {
        Assert.False(RawJson.TryCreate(Encoding.UTF8.GetBytes(text), out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void TryCreate_InvalidUtf8InAString_IsRefused()
    {
        byte[] bytes = [(byte)'"', 0xC3, 0x28, (byte)'"'];
        Assert.False(RawJson.TryCreate(bytes, out _, out var error));
        Assert.Contains("UTF-8", error);
    }

    [Fact]
    public void TryCreate_DeeperThanTheLimit_IsRefused()
    {
        var deep = new string('[', JsonText.MaxDepth + 1) + new string(']', JsonText.MaxDepth + 1);
        Assert.False(RawJson.TryCreate(Encoding.UTF8.GetBytes(deep), out _, out _));
    }

    private sealed record Holder(RawJson Input, RawJson? Output);

    [JsonSerializable(typeof(Holder))]
    private sealed partial class HolderContext : JsonSerializerContext;

    [Fact]
    public void Serializer_WritesTheBytesAsTheyAre_AndReadsThemBack()
    {
        var holder = new Holder(RawJson.Parse("""{ "spaced" : [1,2] }"""), null);
        var json = JsonSerializer.Serialize(holder, HolderContext.Default.Holder);
        Assert.Equal("""{"Input":{ "spaced" : [1,2] },"Output":null}""", json);
        var back = JsonSerializer.Deserialize(json, HolderContext.Default.Holder)!;
        Assert.Equal(holder.Input, back.Input);
        Assert.Null(back.Output);
    }

    [Fact]
    public void Serializer_ANullForANonNullableValue_IsTheJsonNull() =>
        Assert.Equal(RawJson.Null, JsonSerializer.Deserialize("""{"Input":null}""", HolderContext.Default.Holder)!.Input);
}
