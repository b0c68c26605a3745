using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Api.Tests.Versions;

public sealed class VersionEndpointsTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static byte[] Prints(string text) => Encoding.UTF8.GetBytes($"import json\nprint(json.dumps('{text}'))");

    /// <summary>v1 prints A, v2 prints B, and $LATEST (a third revision) prints C.</summary>
    private async Task CreateWithTwoVersionsAsync(string name)
    {
        await daemon.CreateOkAsync(name, "python", Prints("A"), "main.py");
        Assert.Equal(1, (int)(await PublishAsync(name, "first"))["version"]!);
        await PatchCodeAsync(name, "B");
        var v2 = await PublishAsync(name);
        Assert.Equal(2, (int)v2["version"]!);
        Assert.Equal(2, (int)v2["revision"]!);
        await PatchCodeAsync(name, "C");
    }

    private async Task PatchCodeAsync(string name, string text)
    {
        using var response = await daemon.Client.PatchAsJsonAsync($"/v1/functions/{name}", new { code = Convert.ToBase64String(Prints(text)) });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<JsonObject> PublishAsync(string name, string? description = null)
    {
        using var response = await daemon.Client.PostAsJsonAsync($"/v1/functions/{name}/versions", new { description });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    private async Task PutAliasAsync(string name, string alias, object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await daemon.Client.PutAsJsonAsync($"/v1/functions/{name}/aliases/{alias}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected || (expected == HttpStatusCode.OK && response.StatusCode == HttpStatusCode.Created),
            $"{(int)response.StatusCode} {text}");
    }

    private async Task<(string Output, string Version, string Header)> RunAsync(string path)
    {
        using var response = await daemon.Client.PostAsync(path, new StringContent("{}"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        var body = JsonNode.Parse(text)!;
        return ((string)body["output"]!, (string)body["version"]!, response.Headers.GetValues("X-Tern-Version").Single());
    }

    [Fact]
    public async Task Versions_RunTheirOwnCode_UnqualifiedRunsLatest()
    {
        await CreateWithTwoVersionsAsync("ver-basic");
        Assert.Equal(("A", "1", "1"), await RunAsync("/v1/functions/ver-basic:1:invoke"));
        Assert.Equal(("B", "2", "2"), await RunAsync("/v1/functions/ver-basic:2:invoke"));
        Assert.Equal(("C", "$LATEST", "$LATEST"), await RunAsync("/v1/functions/ver-basic:invoke"));
        Assert.Equal(("A", "1", "1"), await RunAsync("/v1/functions/ver-basic:invoke?qualifier=1"));
        Assert.Equal(("C", "$LATEST", "$LATEST"), await RunAsync("/v1/functions/ver-basic:$LATEST:invoke"));

        var list = JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/functions/ver-basic/versions"))!["versions"]!.AsArray();
        Assert.Equal([1, 2], list.Select(v => (int)v!["version"]!));
        var one = JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/functions/ver-basic/versions/1"))!;
        Assert.Equal("first", (string?)one["description"]);
        Assert.Equal(1, (int)one["revision"]!);
    }

    [Fact]
    public async Task PublishingWithoutAChange_ReturnsTheSameVersion()
    {
        await daemon.CreateOkAsync("ver-same", "python", Prints("A"), "main.py");
        Assert.Equal(1, (int)(await PublishAsync("ver-same"))["version"]!);
        Assert.Equal(1, (int)(await PublishAsync("ver-same"))["version"]!);
    }

    [Fact]
    public async Task Alias_RunsItsVersion_AndRollbackGoesBack()
    {
        await CreateWithTwoVersionsAsync("ver-alias");
        await PutAliasAsync("ver-alias", "prod", new { version = 1 }, HttpStatusCode.Created);
        Assert.Equal(("A", "1", "1"), await RunAsync("/v1/functions/ver-alias:prod:invoke"));
        Assert.Equal(("A", "1", "1"), await RunAsync("/v1/functions/ver-alias:invoke?qualifier=prod"));

        await PutAliasAsync("ver-alias", "prod", new { version = 2 });
        Assert.Equal(("B", "2", "2"), await RunAsync("/v1/functions/ver-alias:prod:invoke"));
        using (var rollback = await daemon.Client.PostAsync("/v1/functions/ver-alias/aliases/prod:rollback", null))
        {
            Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
            var alias = JsonNode.Parse(await rollback.Content.ReadAsStringAsync())!;
            Assert.Equal(1, (int)alias["version"]!);
        }
        Assert.Equal(("A", "1", "1"), await RunAsync("/v1/functions/ver-alias:prod:invoke"));

        using (var explicitRollback = await daemon.Client.PostAsJsonAsync("/v1/functions/ver-alias/aliases/prod:rollback", new { version = 2 }))
            Assert.Equal(HttpStatusCode.OK, explicitRollback.StatusCode);
        Assert.Equal(("B", "2", "2"), await RunAsync("/v1/functions/ver-alias:prod:invoke"));

        var aliases = JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/functions/ver-alias/aliases"))!["aliases"]!.AsArray();
        Assert.Equal("prod", (string?)aliases.Single()!["name"]);
        using (var deleted = await daemon.Client.DeleteAsync("/v1/functions/ver-alias/aliases/prod"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await daemon.Client.PostAsync("/v1/functions/ver-alias:prod:invoke", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task WeightedAlias_SplitsCallsRoughlyByWeight()
    {
        await CreateWithTwoVersionsAsync("ver-split");
        await PutAliasAsync("ver-split", "canary", new { version = 1, additionalVersion = 2, additionalWeight = 30 }, HttpStatusCode.Created);
        const int calls = 300;
        var ran = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForAsync(0, calls, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, _) =>
        {
            var (output, version, _) = await RunAsync("/v1/functions/ver-split:canary:invoke");
            Assert.Equal(version == "1" ? "A" : "B", output);
            ran.Add(version);
        });
        var share = ran.Count(v => v == "2") * 100.0 / calls;
        Assert.InRange(share, 20, 40); // 30 % ± 10 points: a miss is about 1 in 10^4 runs (σ ≈ 2.6 points)
    }

    [Fact]
    public async Task BadInput_Returns400_UnknownReturns404()
    {
        await CreateWithTwoVersionsAsync("ver-bad");
        async Task Expect(HttpStatusCode status, Func<Task<HttpResponseMessage>> send)
        {
            using var response = await send();
            Assert.True(status == response.StatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        await Expect(HttpStatusCode.NotFound, () => daemon.Client.PostAsync("/v1/functions/ver-bad:9:invoke", new StringContent("{}")));
        await Expect(HttpStatusCode.NotFound, () => daemon.Client.PostAsync("/v1/functions/ver-bad:nope:invoke", new StringContent("{}")));
        await Expect(HttpStatusCode.NotFound, () => daemon.Client.GetAsync("/v1/functions/ver-bad/versions/9"));
        await Expect(HttpStatusCode.NotFound, () => daemon.Client.GetAsync("/v1/functions/ver-bad/aliases/nope"));
        await Expect(HttpStatusCode.NotFound, () => daemon.Client.PostAsync("/v1/functions/no-such-fn/versions", null));
        await Expect(HttpStatusCode.BadRequest, () => daemon.Client.PostAsync("/v1/functions/ver-bad:Bad!:invoke", new StringContent("{}")));
        await Expect(HttpStatusCode.BadRequest, () => daemon.Client.PostAsync("/v1/functions/ver-bad:1:invoke?qualifier=2", new StringContent("{}")));
        await Expect(HttpStatusCode.BadRequest, () => daemon.Client.GetAsync("/v1/functions/ver-bad/versions/x"));
        await Expect(HttpStatusCode.BadRequest, () => daemon.Client.PutAsJsonAsync("/v1/functions/ver-bad/aliases/123", new { version = 1 }));
        await Expect(HttpStatusCode.BadRequest, () => daemon.Client.PutAsJsonAsync("/v1/functions/ver-bad/aliases/prod", new { version = 7 }));
        await Expect(HttpStatusCode.BadRequest, () => daemon.Client.PutAsJsonAsync("/v1/functions/ver-bad/aliases/prod",
            new { version = 1, additionalVersion = 2, additionalWeight = 101 }));
        await Expect(HttpStatusCode.NotFound, () => daemon.Client.PostAsync("/v1/functions/ver-bad/aliases/prod:rollback", null));
        await PutAliasAsync("ver-bad", "prod", new { version = 1 }, HttpStatusCode.Created);
        // a fresh alias has nothing earlier to go back to
        await Expect(HttpStatusCode.BadRequest, () => daemon.Client.PostAsync("/v1/functions/ver-bad/aliases/prod:rollback", null));
    }

    [Fact]
    public async Task Enqueue_RunsTheResolvedVersion()
    {
        await CreateWithTwoVersionsAsync("ver-async");
        await PutAliasAsync("ver-async", "prod", new { version = 1 }, HttpStatusCode.Created);
        using var response = await daemon.Client.PostAsync("/v1/functions/ver-async:prod:enqueue", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["executionId"]!;
        var record = await daemon.WaitTerminalAsync(id);
        Assert.Equal("A", (string?)record["output"]);
    }

    [Fact]
    public async Task DeletingTheFunction_DeletesItsVersionsAndAliases()
    {
        await CreateWithTwoVersionsAsync("ver-del");
        await PutAliasAsync("ver-del", "prod", new { version = 1 }, HttpStatusCode.Created);
        using (var deleted = await daemon.Client.DeleteAsync("/v1/functions/ver-del")) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await daemon.CreateOkAsync("ver-del", "python", Prints("Z"), "main.py");
        var list = JsonNode.Parse(await daemon.Client.GetStringAsync("/v1/functions/ver-del/versions"))!["versions"]!.AsArray();
        Assert.Empty(list);
        using var gone = await daemon.Client.PostAsync("/v1/functions/ver-del:prod:invoke", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(1, (int)(await PublishAsync("ver-del"))["version"]!);
    }
}
