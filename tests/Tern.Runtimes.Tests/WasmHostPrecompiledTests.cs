using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text.Json;
using Tern.Testing;

namespace Tern.Runtimes.Tests;

/// <summary>tern-wasm-host run directly (outside a sandbox) on the hello example: <c>--compile</c> (what the daemon runs
/// when code is stored), <c>--compiled-dir</c> (that directory, read-only in a worker, looked up before the worker's own
/// cache, with every way a file there can be unusable falling back to compiling), and <c>--zygote</c> (a host waiting
/// for its command on stdin).</summary>
public sealed class WasmHostPrecompiledTests : IDisposable
{
    private static readonly string Host = Path.Combine(AppContext.BaseDirectory, "tern-runtimes", "wasm", "tern-wasm-host");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tern-wasm-precompiled-test-" + Guid.NewGuid().ToString("N"));
    private string CompiledDir => Path.Combine(_dir, "compiled");
    private string CacheDir => Path.Combine(_dir, "cache");

    public WasmHostPrecompiledTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<string> ModuleAsync() => Path.Combine(await ExampleArtifacts.EnsureBuiltAsync(), "wasm", "hello.wasm");

    [Fact]
    public async Task Compile_WritesTheFileTheHostThenDeserializes_AndTheWorkerCacheStaysUnused()
    {
        var compile = await RunAsync(["--compile", "--cache-dir", CompiledDir, await ModuleAsync()]);
        var written = compile.Stdout.Trim();

        var run = await RunCallAsync();

        Assert.Equal(0, compile.ExitCode);
        Assert.Equal(written, Assert.Single(Directory.GetFiles(CompiledDir)));
        Assert.Equal("644", Convert.ToString((int)File.GetUnixFileMode(written), 8)); // every worker's uid reads it
        Assert.Contains($"module precompiled by the daemon: {written}", run.Stderr);
        Assert.Contains("\"Hello, pre!\"", run.Stdout);
        Assert.False(Directory.Exists(CacheDir)); // nothing compiled, nothing cached
    }

    [Fact]
    public async Task Compile_InvalidModule_FailsWithTheReason_AndWritesNothing()
    {
        var bad = Path.Combine(_dir, "bad.wasm");
        await File.WriteAllBytesAsync(bad, [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0xff]);

        var compile = await RunAsync(["--compile", "--cache-dir", CompiledDir, bad]);

        Assert.Equal(1, compile.ExitCode);
        Assert.Contains($"{bad} is not a valid WebAssembly module", compile.Stderr);
        Assert.Empty(Directory.Exists(CompiledDir) ? Directory.GetFiles(CompiledDir) : []);
    }

    [Fact]
    public async Task AbsentPrecompiledFile_FallsBackToCompiling()
    {
        Directory.CreateDirectory(CompiledDir);

        var run = await RunCallAsync();

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("no precompiled file", run.Stderr);
        Assert.Contains("module compiled", run.Stderr);
        Assert.Contains("\"Hello, pre!\"", run.Stdout);
    }

    [Fact]
    public async Task CorruptPrecompiledFile_IsNotUsed_AndNotTouched()
    {
        var written = (await RunAsync(["--compile", "--cache-dir", CompiledDir, await ModuleAsync()])).Stdout.Trim();
        var bytes = await File.ReadAllBytesAsync(written);
        bytes[^100] ^= 0xff;
        await File.WriteAllBytesAsync(written, bytes);

        var run = await RunCallAsync();

        Assert.Contains("is corrupt: not used", run.Stderr);
        Assert.Contains("module compiled", run.Stderr);
        Assert.Contains("\"Hello, pre!\"", run.Stdout);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(written)); // the daemon's file is read-only to workers: left as it is
    }

    [Fact]
    public async Task PrecompiledFileWasmtimeRefuses_IsNotUsed()
    {
        var written = (await RunAsync(["--compile", "--cache-dir", CompiledDir, await ModuleAsync()])).Stdout.Trim();
        var payload = RandomNumberGenerator.GetBytes(4096); // well framed, but not a module this engine compiled
        await File.WriteAllBytesAsync(written, [.. "TWCM0001"u8.ToArray(), .. XxHash128.Hash(payload), .. payload]);

        var run = await RunCallAsync();

        Assert.Contains("is stale", run.Stderr);
        Assert.Contains("module compiled", run.Stderr);
        Assert.Contains("\"Hello, pre!\"", run.Stdout);
    }

    [Fact]
    public async Task Zygote_RunsTheCommandItIsSent_WithTheEnvironmentItIsSent()
    {
        await RunAsync(["--compile", "--cache-dir", CompiledDir, await ModuleAsync()]);
        var eventPath = Path.Combine(_dir, "event.json");
        await File.WriteAllTextAsync(eventPath, """{"name":"zygote"}""");
        var psi = new ProcessStartInfo(Host) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--zygote");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await Task.Delay(200); // it is waiting: nothing written yet, not exited
        Assert.False(process.HasExited);

        var command = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["args"] = new[] { "--memory-mb", "64", "--compiled-dir", CompiledDir, await ModuleAsync(), eventPath },
            ["env"] = new Dictionary<string, string> { ["TERN_WASM_TRACE"] = "1" }, // the host's own switch, read from the sent environment
        });
        var frame = new byte[4 + command.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, command.Length);
        command.CopyTo(frame, 4);
        await process.StandardInput.BaseStream.WriteAsync(frame);
        process.StandardInput.Close();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("\"Hello, zygote!\"", await stdout);
        var trace = await stderr;
        Assert.Contains("started ahead as a spare's zygote", trace);
        Assert.Contains("module precompiled by the daemon", trace);
    }

    [Fact]
    public async Task Zygote_WhoseStdinCloses_ExitsQuietly()
    {
        var psi = new ProcessStartInfo(Host) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--zygote");
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, process.ExitCode);
        Assert.Equal("", await stderr);
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunCallAsync()
    {
        var eventPath = Path.Combine(_dir, "event.json");
        await File.WriteAllTextAsync(eventPath, """{"name":"pre"}""");
        return await RunAsync(["--trace", "--cache-dir", CacheDir, "--compiled-dir", CompiledDir, await ModuleAsync(), eventPath]);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string[] args)
    {
        var psi = new ProcessStartInfo(Host) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
