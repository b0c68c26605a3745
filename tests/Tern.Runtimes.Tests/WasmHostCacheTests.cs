using System.Diagnostics;
using System.IO.Hashing;
using System.Security.Cryptography;
using Tern.Testing;

namespace Tern.Runtimes.Tests;

/// <summary>tern-wasm-host run directly (outside a sandbox) on the hello example, with a cache directory of its own:
/// how it treats cache files that are missing, corrupt or from another engine.</summary>
public sealed class WasmHostCacheTests : IDisposable
{
    private static readonly string Host = Path.Combine(AppContext.BaseDirectory, "tern-runtimes", "wasm", "tern-wasm-host");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tern-wasm-cache-test-" + Guid.NewGuid().ToString("N"));
    private string CacheDir => Path.Combine(_dir, "cache");

    public WasmHostCacheTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task FirstRunCompilesAndStores_SecondRunDeserializes()
    {
        var first = await RunAsync();
        var cached = Assert.Single(Directory.GetFiles(CacheDir));
        var second = await RunAsync();

        Assert.Contains("module compiled", first.Stderr);
        Assert.Contains("module from cache", second.Stderr);
        Assert.Equal(first.Stdout, second.Stdout);
        Assert.Contains("\"Hello, cache!\"", second.Stdout);
        Assert.Equal(cached, Assert.Single(Directory.GetFiles(CacheDir)));
    }

    [Fact]
    public async Task CorruptCacheFile_IsRecompiledAndReplaced()
    {
        await RunAsync();
        var file = Assert.Single(Directory.GetFiles(CacheDir));
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[^100] ^= 0xff; // one flipped byte in the compiled code
        await File.WriteAllBytesAsync(file, bytes);

        var afterCorruption = await RunAsync();
        var afterRepair = await RunAsync();

        Assert.Contains("is corrupt: compiling", afterCorruption.Stderr);
        Assert.Contains("\"Hello, cache!\"", afterCorruption.Stdout);
        Assert.Contains("module from cache", afterRepair.Stderr);
    }

    [Fact]
    public async Task CacheFileWasmtimeRefuses_IsTreatedAsStale_AndRecompiled()
    {
        await RunAsync();
        var file = Assert.Single(Directory.GetFiles(CacheDir));
        // A well-framed file (magic and checksum right) whose content is not a module this engine compiled.
        var payload = RandomNumberGenerator.GetBytes(4096);
        await File.WriteAllBytesAsync(file, [.. "TWCM0001"u8.ToArray(), .. XxHash128.Hash(payload), .. payload]);

        var stale = await RunAsync();
        var afterRepair = await RunAsync();

        Assert.Contains("is stale", stale.Stderr);
        Assert.Contains("\"Hello, cache!\"", stale.Stdout);
        Assert.Contains("module from cache", afterRepair.Stderr);
    }

    [Fact]
    public async Task UnwritableCacheDir_StillRuns()
    {
        await File.WriteAllTextAsync(CacheDir, "a file where the directory should be");

        var result = await RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("\"Hello, cache!\"", result.Stdout);
        Assert.Contains("cannot write the cache file", result.Stderr);
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync()
    {
        var module = Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), "wasm", "hello.wasm");
        var eventPath = Path.Combine(_dir, "event.json");
        await File.WriteAllTextAsync(eventPath, """{"name":"cache"}""");
        var psi = new ProcessStartInfo(Host) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--trace", "--cache-dir", CacheDir, module, eventPath }) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
