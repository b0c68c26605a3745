using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Api.Tests.Endpoints;

public sealed class FunctionEndpointsTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private static readonly byte[] PythonEcho = Encoding.UTF8.GetBytes(
        "import json, sys\nprint(json.dumps({'echo': json.load(open(sys.argv[1]))}))\n");

    private static async Task<JsonObject> ReadObjectAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    [Fact]
    public async Task Create_ValidSingleFile_Returns201WithDefaults()
    {
        using var response = await daemon.CreateAsync("defaults", "python", PythonEcho, "main.py");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/v1/functions/defaults", response.Headers.Location?.ToString());
        var f = await ReadObjectAsync(response);
        Assert.Equal("main.py", (string?)f["handler"]);
        Assert.Equal(128, (int)f["memoryMb"]!);
        Assert.Equal(1, (int)f["vcpus"]!);
        Assert.Equal(30000, (int)f["timeoutMs"]!);
        Assert.Equal("process", (string?)f["mode"]);
        Assert.Equal(4, (int)f["concurrency"]!);
        Assert.Equal(100, (int)f["queueSize"]!);
        Assert.Equal(3, (int)f["maxRetries"]!);
        Assert.Equal("sandbox", (string?)f["isolation"]);
        Assert.Equal(1, (int)f["version"]!);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(PythonEcho)), (string?)f["codeHash"]);
    }

    [Fact]
    public async Task Create_DuplicateName_Returns409Problem()
    {
        await daemon.CreateOkAsync("dup", "python", PythonEcho, "main.py");
        using var response = await daemon.CreateAsync("dup", "python", PythonEcho, "main.py");
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Create_ManyBadFields_Returns400ListingEachField()
    {
        using var response = await daemon.CreateAsync("Bad Name!", "cobol", PythonEcho, "main.py",
            new { memoryMb = 64, vcpus = 9, timeoutMs = 900_001, mode = "forever", isolation = "nope", env = new Dictionary<string, string> { ["1BAD"] = "x" } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await ReadObjectAsync(response))["errors"]!.AsObject();
        foreach (var field in new[] { "name", "runtime", "memoryMb", "vcpus", "timeoutMs", "mode", "isolation", "env" })
            Assert.True(errors.ContainsKey(field), $"expected an error for {field}: {errors.ToJsonString()}");
    }

    [Fact]
    public async Task Create_MissingCode_Returns400ForCode()
    {
        using var response = await daemon.Client.PostAsJsonAsync("/v1/functions", new { name = "nocode", runtime = "python" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await ReadObjectAsync(response))["errors"]!.AsObject().ContainsKey("code"));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("null")]
    [InlineData("[1,2]")]
    [InlineData("{\"memoryMb\": \"lots\"}")]
    public async Task Create_MalformedJson_Returns400Problem(string body)
    {
        using var response = await daemon.Client.PostAsync("/v1/functions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("../evil.py")]
    [InlineData("/etc/evil.py")]
    [InlineData("ok/../../evil.py")]
    public async Task Create_ZipEscapingItsRoot_Returns400(string entryName)
    {
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            await using (var w = new StreamWriter(archive.CreateEntry("main.py").Open())) await w.WriteAsync("print(1)");
            await using (var w = new StreamWriter(archive.CreateEntry(entryName).Open())) await w.WriteAsync("print(2)");
        }
        using var response = await daemon.CreateAsync("zipslip", "python", zip.ToArray(), null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("escapes", await response.Content.ReadAsStringAsync());
        Assert.False(File.Exists(Path.Combine(daemon.DataDir, "evil.py")));
    }

    [Fact]
    public async Task Create_ZipWithHandler_RunsAndHandlerMissingIs400()
    {
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            await using (var w = new StreamWriter(archive.CreateEntry("lib/greet.py").Open())) await w.WriteAsync("def greet(n): return 'hi ' + n\n");
            await using (var w = new StreamWriter(archive.CreateEntry("app.py").Open()))
                await w.WriteAsync("import json, sys\nsys.path.insert(0, 'lib')\nfrom greet import greet\nprint(json.dumps(greet(json.load(open(sys.argv[1]))['n'])))\n");
        }
        using (var missing = await daemon.CreateAsync("zipped", "python", zip.ToArray(), null, new { handler = "nope.py" }))
            Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        await daemon.CreateOkAsync("zipped", "python", zip.ToArray(), null, new { handler = "app.py" });
        var result = await daemon.InvokeAsync("zipped", "{\"n\":\"zip\"}");
        Assert.Equal("hi zip", (string?)result["output"]);
    }

    [Fact]
    public async Task Get_Unknown_Returns404Problem()
    {
        using var response = await daemon.Client.GetAsync("/v1/functions/does-not-exist");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Patch_NewCode_ChangesHashBumpsVersionAndRunsNewCode()
    {
        await daemon.CreateOkAsync("patched", "python", Encoding.UTF8.GetBytes("print('\"v1\"')"), "main.py");
        var before = await ReadObjectAsync(await daemon.Client.GetAsync("/v1/functions/patched"));

        var v2 = Convert.ToBase64String(Encoding.UTF8.GetBytes("print('\"v2\"')"));
        using var response = await daemon.Client.PatchAsJsonAsync("/v1/functions/patched", new { code = v2, memoryMb = 256 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var after = await ReadObjectAsync(response);
        Assert.NotEqual((string?)before["codeHash"], (string?)after["codeHash"]);
        Assert.Equal(2, (int)after["version"]!);
        Assert.Equal(256, (int)after["memoryMb"]!);
        Assert.Equal("main.py", (string?)after["handler"]);
        Assert.Equal((string?)before["createdAt"], (string?)after["createdAt"]);
        Assert.Equal("v2", (string?)(await daemon.InvokeAsync("patched"))["output"]);
    }

    [Fact]
    public async Task Patch_InvalidField_Returns400AndKeepsFunction()
    {
        await daemon.CreateOkAsync("patch-bad", "python", PythonEcho, "main.py");
        using var response = await daemon.Client.PatchAsJsonAsync("/v1/functions/patch-bad", new { vcpus = 0, name = "renamed" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await ReadObjectAsync(response))["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("vcpus") && errors.ContainsKey("name"));
        var still = await ReadObjectAsync(await daemon.Client.GetAsync("/v1/functions/patch-bad"));
        Assert.Equal(1, (int)still["vcpus"]!);
    }

    [Fact]
    public async Task Delete_Existing_Returns204ThenGetIs404()
    {
        await daemon.CreateOkAsync("doomed", "python", PythonEcho, "main.py");
        using var deleted = await daemon.Client.DeleteAsync("/v1/functions/doomed");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var again = await daemon.Client.DeleteAsync("/v1/functions/doomed");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task List_ReturnsRegisteredFunctionsByName()
    {
        await daemon.CreateOkAsync("list-b", "python", PythonEcho, "main.py");
        await daemon.CreateOkAsync("list-a", "node", Encoding.UTF8.GetBytes("console.log('1')"), "index.js");
        var list = await ReadObjectAsync(await daemon.Client.GetAsync("/v1/functions"));
        var names = list["functions"]!.AsArray().Select(f => (string?)f!["name"]).ToList();
        Assert.Contains("list-a", names);
        Assert.Contains("list-b", names);
        Assert.True(names.IndexOf("list-a") < names.IndexOf("list-b"));
    }

    [Fact]
    public async Task Create_Multipart_UsesFileNameAsCodeFileName()
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("{\"name\":\"multi\",\"runtime\":\"python\"}"), "function" },
            { new ByteArrayContent(PythonEcho), "code", "handler.py" },
        };
        using var response = await daemon.Client.PostAsync("/v1/functions", form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("handler.py", (string?)(await ReadObjectAsync(response))["handler"]);
        var result = await daemon.InvokeAsync("multi", "{\"a\":1}");
        Assert.Equal(1, (int)result["output"]!["echo"]!["a"]!);
    }
}
