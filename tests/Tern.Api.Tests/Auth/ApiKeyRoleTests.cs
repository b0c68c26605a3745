using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Tern.Api.Tests.Auth;

/// <summary>Roles against a real daemon with auth on: what each role may call, and that no key can give itself or a
/// key it makes more rights or more rate than it has.</summary>
public sealed class ApiKeyRoleTests(AuthDaemonFixture daemon) : IClassFixture<AuthDaemonFixture>
{
    private const string Script = "print('{\"ok\": true}')\n";

    [Fact]
    public async Task EachRole_MayCallItsRoutes_AndGets403ProblemAbove()
    {
        var read = await CreateAsync(daemon.BootstrapKey!, "r", "read");
        var invoke = await CreateAsync(daemon.BootstrapKey!, "i", "invoke");
        var deploy = await CreateAsync(daemon.BootstrapKey!, "d", "deploy");

        // deploy registers; the others may not.
        var create = new { name = "role-fn", runtime = "python", code = Convert.ToBase64String(Encoding.UTF8.GetBytes(Script)), codeFileName = "main.py" };
        await AssertForbiddenAsync(read.Key, HttpMethod.Post, "/v1/functions", create, needs: "deploy");
        await AssertForbiddenAsync(invoke.Key, HttpMethod.Post, "/v1/functions", create, needs: "deploy");
        Assert.Equal(HttpStatusCode.Created, await StatusAsync(deploy.Key, HttpMethod.Post, "/v1/functions", create));

        // invoke calls; read may only look.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(read.Key, HttpMethod.Get, "/v1/functions/role-fn"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(read.Key, HttpMethod.Get, "/metrics"));
        await AssertForbiddenAsync(read.Key, HttpMethod.Post, "/v1/functions/role-fn:invoke", new { }, needs: "invoke");
        await AssertForbiddenAsync(read.Key, HttpMethod.Post, "/v1/functions/role-fn:enqueue", new { }, needs: "invoke");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(invoke.Key, HttpMethod.Post, "/v1/functions/role-fn:invoke", new { }));
        await AssertForbiddenAsync(invoke.Key, HttpMethod.Patch, "/v1/functions/role-fn", new { memoryMb = 256 }, needs: "deploy");
        await AssertForbiddenAsync(invoke.Key, HttpMethod.Delete, "/v1/functions/role-fn", null, needs: "deploy");

        // Secret names are deploy's business; global limits are admin's.
        await AssertForbiddenAsync(invoke.Key, HttpMethod.Get, "/v1/secrets", null, needs: "deploy");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(deploy.Key, HttpMethod.Get, "/v1/secrets"));
        await AssertForbiddenAsync(deploy.Key, HttpMethod.Put, "/v1/limits", new { globalPerSecond = 0 }, needs: "admin");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(daemon.BootstrapKey!, HttpMethod.Put, "/v1/limits", new { globalPerSecond = 0 }));
    }

    [Fact]
    public async Task NoKey_CanCreateAStrongerOrFasterKey()
    {
        var deploy = await CreateAsync(daemon.BootstrapKey!, "d-limited", "deploy", rate: 50);
        var invoke = await CreateAsync(daemon.BootstrapKey!, "i-only", "invoke");

        await AssertForbiddenAsync(deploy.Key, HttpMethod.Post, "/v1/api-keys", new { name = "up", role = "admin", rateLimitPerSecond = 10 }, needs: "at most its creator's role");
        await AssertForbiddenAsync(deploy.Key, HttpMethod.Post, "/v1/api-keys", new { name = "fast", role = "invoke" }, needs: "rateLimitPerSecond from 1 to 50");
        await AssertForbiddenAsync(deploy.Key, HttpMethod.Post, "/v1/api-keys", new { name = "faster", role = "invoke", rateLimitPerSecond = 51 }, needs: "from 1 to 50");
        await AssertForbiddenAsync(invoke.Key, HttpMethod.Post, "/v1/api-keys", new { name = "any", role = "read" }, needs: "deploy");

        var child = await CreateAsync(deploy.Key, "child", null, rate: 50);
        Assert.Equal("deploy", child.Role); // no role asked: the creator's own
        Assert.Equal(deploy.Id, child.CreatedBy);
        var reader = await CreateAsync(deploy.Key, "child-reader", "read", rate: 5);
        Assert.Equal("read", reader.Role);

        using var bad = await SendAsync(deploy.Key, HttpMethod.Post, "/v1/api-keys", new { name = "x", role = "root", rateLimitPerSecond = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task KeysACreatorMakes_ShareItsLimit_SoMintingKeysMultipliesNothing()
    {
        var parent = await CreateAsync(daemon.BootstrapKey!, "parent", "deploy", rate: 3);
        var children = new List<CreatedKey>();
        for (var i = 0; i < 3; i++)
        {
            // Creating children spends the parent's own requests: wait for its bucket between them.
            await Task.Delay(1100);
            children.Add(await CreateAsync(parent.Key, $"kid{i}", "read", rate: 3));
        }
        await Task.Delay(1100); // the parent's bucket is full again: 3 requests in a burst

        var statuses = new List<HttpStatusCode>();
        string? rejection = null;
        for (var round = 0; round < 4; round++)
            foreach (var child in children)
            {
                using var response = await SendAsync(child.Key, HttpMethod.Get, "/v1/functions", null);
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.TooManyRequests) rejection ??= await response.Content.ReadAsStringAsync();
            }
        // Alone the three children could make 9 at once; together they have the parent's 3 (plus what trickles in).
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) <= 5, string.Join(",", statuses));
        Assert.NotNull(rejection);
        Assert.Contains(parent.Id, rejection);
    }

    [Fact]
    public async Task Revoke_NonAdminsCannotRevokeAdmins_OrOthersKeys_AndRevokingACreatorStopsItsKeys()
    {
        var deploy = await CreateAsync(daemon.BootstrapKey!, "rev-deploy", "deploy");
        var other = await CreateAsync(daemon.BootstrapKey!, "rev-other", "invoke");
        var adminChild = await CreateAsync(daemon.BootstrapKey!, "rev-admin", "admin");
        var child = await CreateAsync(deploy.Key, "rev-child", "invoke");

        using (var r = await SendAsync(deploy.Key, HttpMethod.Delete, $"/v1/api-keys/{adminChild.Id}", null))
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await SendAsync(deploy.Key, HttpMethod.Delete, $"/v1/api-keys/{other.Id}", null))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode); // not its key: not even shown to exist

        // A non-admin lists only itself and what it made.
        using (var list = await SendAsync(deploy.Key, HttpMethod.Get, "/v1/api-keys", null))
        {
            var ids = JsonNode.Parse(await list.Content.ReadAsStringAsync())!["apiKeys"]!.AsArray().Select(k => (string)k!["id"]!).ToHashSet();
            Assert.Equal(new HashSet<string> { deploy.Id, child.Id }, ids);
        }

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(child.Key, HttpMethod.Get, "/v1/functions"));
        using (var r = await SendAsync(daemon.BootstrapKey!, HttpMethod.Delete, $"/v1/api-keys/{deploy.Id}", null))
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(child.Key, HttpMethod.Get, "/v1/functions"));
    }

    [Fact]
    public async Task Revoke_TheLastRootAdminKey_Is409()
    {
        using var list = await SendAsync(daemon.BootstrapKey!, HttpMethod.Get, "/v1/api-keys", null);
        var roots = JsonNode.Parse(await list.Content.ReadAsStringAsync())!["apiKeys"]!.AsArray()
            .Where(k => (string?)k!["role"] == "admin" && k["createdBy"] is null && k["revokedAt"] is null).ToList();
        Assert.Single(roots);
        using var response = await SendAsync(daemon.BootstrapKey!, HttpMethod.Delete, $"/v1/api-keys/{(string)roots[0]!["id"]!}", null);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(daemon.BootstrapKey!, HttpMethod.Get, "/v1/functions"));
    }

    private sealed record CreatedKey(string Id, string Key, string Role, string? CreatedBy);

    private async Task<CreatedKey> CreateAsync(string by, string name, string? role, int? rate = null)
    {
        using var response = await SendAsync(by, HttpMethod.Post, "/v1/api-keys", new { name, role, rateLimitPerSecond = rate });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var body = JsonNode.Parse(text)!;
        return new CreatedKey((string)body["id"]!, (string)body["key"]!, (string)body["role"]!, (string?)body["createdBy"]);
    }

    private async Task AssertForbiddenAsync(string key, HttpMethod method, string path, object? body, string needs)
    {
        using var response = await SendAsync(key, method, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(needs, text);
    }

    private async Task<HttpStatusCode> StatusAsync(string key, HttpMethod method, string path, object? body = null)
    {
        using var response = await SendAsync(key, method, path, body);
        return response.StatusCode;
    }

    private Task<HttpResponseMessage> SendAsync(string key, HttpMethod method, string path, object? body)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        request.Headers.Add("X-API-Key", key);
        return daemon.Client.SendAsync(request);
    }
}
