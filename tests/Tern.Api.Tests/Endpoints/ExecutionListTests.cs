using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Api.Tests.Endpoints;

/// <summary>GET /v1/executions against a real daemon: real calls (sync and async, succeeding and failing, $LATEST and a
/// published version) are listed newest first, each filter narrows the list, a cursor pages through it without gaps or
/// repeats, and malformed parameters are 400 problems.</summary>
public sealed class ExecutionListTests(ExecutionListTests.Calls calls) : IClassFixture<ExecutionListTests.Calls>
{
    /// <summary>A daemon with nine finished calls: three of "el-ok" ($LATEST), two of "el-ok:1", three failing calls of
    /// "el-fail" and one async call of "el-ok".</summary>
    public sealed class Calls : DaemonFixture
    {
        public List<string> Ids { get; } = [];

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await CreateOkAsync("el-ok", "python", Encoding.UTF8.GetBytes("print('{\"ok\": true}')\n"), "main.py");
            await CreateOkAsync("el-fail", "python", Encoding.UTF8.GetBytes("import sys\nsys.exit('no')\n"), "main.py");
            using (var published = await Client.PostAsync("/v1/functions/el-ok/versions", new StringContent("{}", Encoding.UTF8, "application/json")))
                published.EnsureSuccessStatusCode();
            foreach (var target in new[] { "el-ok", "el-fail", "el-ok", "el-ok:1", "el-fail", "el-ok", "el-ok:1", "el-fail" })
                Ids.Add((string)(await InvokeAsync(target))["executionId"]!);
            using var enqueued = await Client.PostAsync("/v1/functions/el-ok:enqueue", new StringContent("{}", Encoding.UTF8, "application/json"));
            var id = (string)JsonNode.Parse(await enqueued.Content.ReadAsStringAsync())!["executionId"]!;
            await WaitTerminalAsync(id);
            Ids.Add(id);
        }
    }

    private async Task<JsonObject> ListAsync(string query)
    {
        using var response = await calls.Client.GetAsync("/v1/executions" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static string[] Ids(JsonObject page) => [.. page["executions"]!.AsArray().Select(e => (string)e!["executionId"]!)];

    private IEnumerable<string> Newest => Enumerable.Reverse(calls.Ids);

    [Fact]
    public async Task NoFilter_ListsEveryCall_NewestFirst_WithWhatRan()
    {
        var page = await ListAsync("");
        Assert.Equal(Newest, Ids(page));
        Assert.Null(page["nextCursor"]);
        var executions = page["executions"]!.AsArray();
        var first = executions[executions.Count - 1]!;
        Assert.Equal("el-ok", (string?)first["function"]);
        Assert.Equal("success", (string?)first["status"]);
        Assert.Equal("$LATEST", (string?)first["version"]);
        Assert.Equal("1", (string?)executions[executions.Count - 4]!["version"]); // the first call of el-ok:1
        Assert.Null(first["input"]); // the listing shows records as GET /v1/executions/{id} does: no events
    }

    [Fact]
    public async Task FunctionFilter_ListsOnlyThatFunctionsCalls()
    {
        var page = await ListAsync("?function=el-fail");
        Assert.Equal(Newest.Where(id => calls.Ids.IndexOf(id) is 1 or 4 or 7), Ids(page));
        Assert.Empty(Ids(await ListAsync("?function=el-nobody")));
    }

    [Fact]
    public async Task StatusFilter_OneOrSeveralStatuses()
    {
        var errors = await ListAsync("?status=error");
        Assert.Equal(3, Ids(errors).Length);
        Assert.All(errors["executions"]!.AsArray(), e => Assert.Equal("el-fail", (string?)e!["function"]));
        Assert.Equal(9, Ids(await ListAsync("?status=success,error")).Length);
        Assert.Equal(6, Ids(await ListAsync("?status=success&status=timeout")).Length); // repeated: either one
        Assert.Empty(Ids(await ListAsync("?status=running")));
    }

    [Fact]
    public async Task SinceFilter_ListsCallsCreatedAtOrAfterTheTime()
    {
        var all = (await ListAsync("")).AsObject()["executions"]!.AsArray();
        var fifth = all.Single(e => (string?)e!["executionId"] == calls.Ids[4])!;
        var since = Uri.EscapeDataString((string)fifth["createdAt"]!);
        Assert.Equal(Newest.Take(5), Ids(await ListAsync($"?since={since}")));
        Assert.Equal(["el-fail"], (await ListAsync($"?since={since}&function=el-fail&status=error"))["executions"]!.AsArray()
            .Select(e => (string)e!["function"]!).Distinct());
        Assert.Empty(Ids(await ListAsync("?since=2999-01-01T00:00:00Z")));
    }

    [Fact]
    public async Task Limit_AndCursor_PageThroughEveryCallOnce()
    {
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ListAsync("?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            Assert.True(Ids(page).Length <= 2);
            seen.AddRange(Ids(page));
            cursor = (string?)page["nextCursor"];
            pages++;
        }
        while (cursor is not null);
        Assert.Equal(Newest, seen);
        Assert.Equal(5, pages);

        var filtered = await ListAsync("?function=el-ok&limit=3");
        var next = await ListAsync("?function=el-ok&limit=3&cursor=" + Uri.EscapeDataString((string)filtered["nextCursor"]!));
        Assert.Equal(Newest.Where(id => calls.Ids.IndexOf(id) is not (1 or 4 or 7)), Ids(filtered).Concat(Ids(next)));
        Assert.Null(next["nextCursor"]);
    }

    /// <summary>The bad-input suite fuzzes the query parameters the OpenAPI document lists: these must be there.</summary>
    [Fact]
    public async Task OpenApiDocument_ListsTheQueryParameters()
    {
        var document = JsonNode.Parse(await calls.Client.GetStringAsync("/openapi/v1.json"))!;
        var parameters = document["paths"]!["/v1/executions"]!["get"]!["parameters"]!.AsArray();
        Assert.Equal(["function", "status", "since", "limit", "cursor"], parameters.Select(p => (string)p!["name"]!));
        Assert.All(parameters, p => Assert.Equal("query", (string?)p!["in"]));
    }

    [Theory]
    [InlineData("?function=Not_A_Name", "function")]
    [InlineData("?function=a&function=b", "function")]
    [InlineData("?status=failed", "status")]
    [InlineData("?status=error,", "status")]
    [InlineData("?since=yesterday", "since")]
    [InlineData("?since=2026-13-40T00:00:00Z", "since")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=1001", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?cursor=not-a-cursor", "cursor")]
    [InlineData("?cursor=MTp4Ong", "cursor")] // base64url of "1:x:x": not an id
    [InlineData("?cursor=%FF%FE", "cursor")]
    public async Task BadParameters_Are400Problems(string query, string parameter)
    {
        using var response = await calls.Client.GetAsync("/v1/executions" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!;
        Assert.Equal(400, (int)problem["status"]!);
        Assert.Contains(parameter, text, StringComparison.OrdinalIgnoreCase);
    }
}
