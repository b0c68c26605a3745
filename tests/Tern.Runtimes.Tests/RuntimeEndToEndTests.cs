using System.IO.Compression;
using Tern.Testing;

namespace Tern.Runtimes.Tests;

/// <summary>Each runtime's example (examples/, built by scripts/build-examples.sh) registered and invoked through the
/// HTTP API in the real sandbox: {"name":"x"} must come back as {"message":"Hello, x!","runtime":...}.</summary>
public sealed class RuntimeEndToEndTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    [Theory]
    [InlineData("python", "python/main.py", 128)]
    [InlineData("node", "node/index.js", 128)]
    [InlineData("java", "java/app.jar", 512)]
    [InlineData("go", "go/bootstrap", 128)]
    [InlineData("rust", "rust/bootstrap", 128)]
    [InlineData("wasm", "wasm/hello.wasm", 128)]
    [InlineData("binary", "binary/bootstrap", 128)]
    public async Task SingleFileExample_Invoke_ReturnsGreeting(string runtime, string artifact, int memoryMb)
    {
        var path = Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), artifact);
        var name = "rt-" + runtime;
        await daemon.CreateOkAsync(name, runtime, await File.ReadAllBytesAsync(path), Path.GetFileName(path), new { memoryMb });
        await AssertGreetsAsync(name, runtime);
    }

    [Fact]
    public async Task JavaSourceFile_Invoke_ReturnsGreeting()
    {
        var path = Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), "java", "Hello.java");
        await daemon.CreateOkAsync("rt-java-source", "java", await File.ReadAllBytesAsync(path), "Hello.java", new { memoryMb = 512 });
        await AssertGreetsAsync("rt-java-source", "java");
    }

    [Fact]
    public async Task DotnetZippedBuildOutput_Invoke_ReturnsGreeting()
    {
        var dir = Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), "dotnet");
        using var zip = new MemoryStream();
        ZipFile.CreateFromDirectory(dir, zip);
        await daemon.CreateOkAsync("rt-dotnet", "dotnet", zip.ToArray(), null, new { handler = "Hello.dll" });
        await AssertGreetsAsync("rt-dotnet", "dotnet");
    }

    [Theory]
    [InlineData("python", "python/main.py")]
    [InlineData("node", "node/index.js")]
    [InlineData("go", "go/bootstrap")]
    public async Task Example_FailRequested_ReturnsHandlerError(string runtime, string artifact)
    {
        var path = Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), artifact);
        var name = "rt-fail-" + runtime;
        await daemon.CreateOkAsync(name, runtime, await File.ReadAllBytesAsync(path), Path.GetFileName(path));
        var result = await daemon.InvokeAsync(name, "{\"fail\":true}");
        Assert.Equal("error", (string?)result["status"]);
        Assert.Contains("boom: requested failure", (string?)result["error"]!["message"]);
    }

    private async Task AssertGreetsAsync(string function, string runtime)
    {
        var result = await daemon.InvokeAsync(function, "{\"name\":\"x\"}");
        Assert.True((string?)result["status"] == "success", result.ToJsonString());
        Assert.Equal("Hello, x!", (string?)result["output"]!["message"]);
        Assert.Equal(runtime, (string?)result["output"]!["runtime"]);
    }
}
