using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

try
{
    var evt = JsonNode.Parse(File.ReadAllText(args[0])) as JsonObject ?? new JsonObject();
    if (evt["fail"] is JsonValue f && f.TryGetValue(out bool fail) && fail)
        throw new InvalidOperationException("requested failure");
    var name = evt["name"]?.GetValue<string>() ?? "world";
    var result = new JsonObject { ["message"] = $"Hello, {name}!", ["runtime"] = "dotnet" };
    Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"boom: {e.Message}");
    return 1;
}
