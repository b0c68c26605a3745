using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tern.Storage;
using Tern.Testing;

namespace Tern.Invocation.Tests.Admission;

/// <summary>Handlers and HTTP helpers shared by the admission tests.</summary>
internal static class AdmissionTestKit
{
    /// <summary>Returns a fresh random number per run (so a replay is told apart from a second run); sleeps event.sleep s.</summary>
    public static readonly byte[] RandomHandler = Encoding.UTF8.GetBytes("""
        import json, random, sys, time
        event = json.load(open(sys.argv[1]))
        time.sleep(event.get("sleep", 0))
        print(json.dumps({"n": random.random()}))
        """);

    public static async Task<(HttpResponseMessage Response, JsonObject? Body)> PostAsync(
        this DaemonFixture daemon, string path, string body = "{}", Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        configure?.Invoke(request);
        var response = await daemon.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null);
    }

    public static Action<HttpRequestMessage> Header(string name, string value) =>
        r => r.Headers.TryAddWithoutValidation(name, value);

    public static async Task<HttpResponseMessage> PatchAsync(this DaemonFixture daemon, string function, object body) =>
        await daemon.Client.PatchAsync($"/v1/functions/{function}", JsonContent.Create(body));

    /// <summary>Execution records the store holds for a function, read straight from the daemon's database.</summary>
    public static async Task<long> CountRecordsAsync(this DaemonFixture daemon, string function)
    {
        await daemon.Services.GetRequiredService<IExecutionStore>().FlushAsync(); // sync records are written behind their answers
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(daemon.DataDir, "tern.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM executions WHERE function = $function";
        command.Parameters.AddWithValue("$function", function);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
