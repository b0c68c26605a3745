using System.Text;
using System.Text.Json;
using Tern.Core.Functions;

namespace Tern.Core.Tests.Functions;

public sealed class FunctionNetworkTests
{
    private static FunctionNetwork Read(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        return new FunctionNetworkJsonConverter().Read(ref reader, typeof(FunctionNetwork), JsonSerializerOptions.Default);
    }

    private static string Write(FunctionNetwork network)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream)) new FunctionNetworkJsonConverter().Write(writer, network, JsonSerializerOptions.Default);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static Dictionary<string, string[]> Validate(FunctionNetwork network) =>
        FunctionValidator.Validate(new FunctionSettings { Network = network }, creating: false, ["sandbox"]);

    [Fact]
    public void Json_AcceptsAModeString_OrTheObject_AndAlwaysWritesTheObject()
    {
        Assert.Equal(new FunctionNetwork { Mode = "egress" }, Read("\"egress\""));
        Assert.Equal(FunctionNetwork.None, Read("\"none\""));
        var full = Read("""{"mode": "egress", "allow": ["10.1.2.3/32", "192.168.1.5:8080"]}""");
        Assert.Equal(new FunctionNetwork { Mode = "egress", Allow = ["10.1.2.3/32", "192.168.1.5:8080"] }, full);
        Assert.Equal("""{"mode":"egress","allow":["10.1.2.3/32","192.168.1.5:8080"]}""", Write(full));
        Assert.Equal("""{"mode":"none","allow":[]}""", Write(FunctionNetwork.None));
        // An allow list alone means egress.
        Assert.Equal("egress", Read("""{"allow": ["10.0.0.0/8"]}""").Mode);
    }

    [Theory]
    [InlineData("5", "network must be \"none\", \"egress\" or an object")]
    [InlineData("[\"egress\"]", "network must be \"none\", \"egress\" or an object")]
    [InlineData("""{"mode": "egress", "allowed": []}""", "network has no field 'allowed'; it takes mode and allow")]
    [InlineData("""{"mode": 1}""", "network.mode must be a string")]
    [InlineData("""{"allow": "10.0.0.0/8"}""", "network.allow must be an array of strings")]
    [InlineData("""{"allow": [8080]}""", "network.allow must be an array of strings")]
    public void Json_WrongShape_IsAJsonErrorSayingWhatIsExpected(string json, string message)
    {
        var e = Assert.Throws<JsonException>(() => Read(json));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Validate_UnknownMode_NamesTheModesThereAre()
    {
        var errors = Validate(new FunctionNetwork { Mode = "internet" });
        Assert.Equal(["network.mode"], errors.Keys);
        Assert.Contains("unknown network mode 'internet'; use 'none' (no network) or 'egress'", errors["network.mode"][0]);
    }

    [Fact]
    public void Validate_AllowWithoutEgress_IsRefused()
    {
        var errors = Validate(new FunctionNetwork { Mode = "none", Allow = ["10.0.0.0/8"] });
        Assert.Equal("network.allow needs mode 'egress'.", Assert.Single(errors["network.allow"]));
    }

    [Fact]
    public void Validate_EveryBadEntry_IsListedWithItsReason()
    {
        var errors = Validate(new FunctionNetwork { Mode = "egress", Allow = ["10.1.2.3/33", "10.1.2.3/8", "db.internal:5432", "10.0.0.1:0", "10.0.0.1:70000", "[fd00::1", "10", "10.0.0.0/8"] });
        var messages = errors["network.allow"];
        Assert.Equal(7, messages.Length);
        Assert.StartsWith("'10.1.2.3/33': the prefix length must be 0-32.", messages[0]);
        Assert.StartsWith("'10.1.2.3/8': the address has bits set beyond the /8 prefix; did you mean 10.0.0.0/8?", messages[1]);
        Assert.StartsWith("'db.internal:5432': not an IP address or CIDR range (host names are not accepted).", messages[2]);
        Assert.StartsWith("'10.0.0.1:0': the port must be 1-65535.", messages[3]);
        Assert.StartsWith("'10.0.0.1:70000': the port must be 1-65535.", messages[4]);
        Assert.StartsWith("'[fd00::1': a '[' without its ']'.", messages[5]);
        Assert.StartsWith("'10': not an IP address or CIDR range", messages[6]);
    }

    [Fact]
    public void Validate_TooManyEntries_IsRefused()
    {
        var errors = Validate(new FunctionNetwork { Mode = "egress", Allow = [.. Enumerable.Range(1, 65).Select(i => $"10.0.0.{i}")] });
        Assert.Contains("at most 64 entries.", errors["network.allow"]);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8", null)]
    [InlineData("10.1.2.3", "10.1.2.3/32", null)]
    [InlineData("192.168.1.5:8080", "192.168.1.5/32", 8080)]
    [InlineData("10.0.0.0/24:443", "10.0.0.0/24", 443)]
    [InlineData("fd00::/8", "fd00::/8", null)]
    [InlineData("fd00::1", "fd00::1/128", null)]
    [InlineData("[fd00::1]:443", "fd00::1/128", 443)]
    [InlineData("[fd00::/64]:53", "fd00::/64", 53)]
    public void AllowEntry_Parses_RangeAndPort(string text, string network, int? port)
    {
        Assert.True(NetworkAllowEntry.TryParse(text, out var entry, out var error), error);
        Assert.Equal(network, entry.Network.ToString());
        Assert.Equal(port, entry.Port);
    }
}
