using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using Tern.Testing;

namespace Tern.Runtimes.Tests;

/// <summary>What a waiting wasm zygote keeps ready (Tern.WasmHost/Prewarm.cs), run directly outside a sandbox, and the
/// end-of-call trailer both sides share (Tern.Runtimes/EndOfCallTrailer.cs).</summary>
public sealed class WasmZygoteWarmthTests
{
    private static readonly string HostDir = Path.Combine(AppContext.BaseDirectory, "tern-runtimes", "wasm");

    [Fact]
    public void ThePrewarmModuleShipped_IsPrewarmWat()
    {
        // The host embeds the module's bytes and names the compiled file by their hash: it must be what prewarm.wat says.
        var wasm = WatModules.Compile(File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Tern.WasmHost", "prewarm.wat")));
        var hash = Convert.ToHexStringLower(XxHash128.Hash(wasm));

        var files = Directory.GetFiles(Path.Combine(HostDir, "prewarm")).Select(Path.GetFileName).ToList();

        Assert.Contains(files, f => f!.StartsWith(hash + "-", StringComparison.Ordinal) && f.EndsWith(".cwasm", StringComparison.Ordinal));
        Assert.Contains("event.json", files);
    }

    [Fact]
    public async Task AWaitingZygote_KeepsWasisBlockingThread_PastItsTenSecondIdleLimit()
    {
        var psi = new ProcessStartInfo(Path.Combine(HostDir, "tern-wasm-host")) { RedirectStandardInput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--zygote");
        psi.ArgumentList.Add("--trace");
        using var process = Process.Start(psi)!;
        try
        {
            var stderr = new StringBuilder();
            process.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
            process.BeginErrorReadLine();
            await Eventually.TrueAsync(() => { lock (stderr) return stderr.ToString().Contains("prewarmed"); }, "the zygote's prewarm", 10_000);
            var afterPrewarm = TokioThreads(process.Id);

            await Task.Delay(TimeSpan.FromSeconds(12)); // past tokio's 10 s keep-alive for an idle blocking thread

            // The workers plus the blocking thread the prewarm's file read started: none let go (a keep-alive read may
            // find the pool's thread busy for a moment and start a second one).
            Assert.True(afterPrewarm >= 2, $"{afterPrewarm} WASI runtime threads after the prewarm");
            Assert.InRange(TokioThreads(process.Id), afterPrewarm, afterPrewarm + 1);
        }
        finally
        {
            process.StandardInput.Close(); // a zygote whose stdin closes exits
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    private static int TokioThreads(int pid) => Directory.GetDirectories($"/proc/{pid}/task")
        .Count(task => File.ReadAllText(Path.Combine(task, "comm")).Trim() == "tokio-rt-worker");

    [Fact]
    public void Trailer_RoundTrips_OnlyWithItsToken_AndOnlyAtTheEnd()
    {
        var token = EndOfCallTrailer.NewToken();
        var stderr = Encoding.UTF8.GetBytes("log line\n").Concat(EndOfCallTrailer.Format(token, 42)).ToArray();

        Assert.True(EndOfCallTrailer.TryParse(stderr, token, out var code, out var length));
        Assert.Equal(42, code);
        Assert.Equal("log line\n", Encoding.UTF8.GetString(stderr[..^length]));
        Assert.False(EndOfCallTrailer.TryParse(stderr, EndOfCallTrailer.NewToken(), out _, out _));
        Assert.False(EndOfCallTrailer.TryParse([.. stderr, (byte)'x'], token, out _, out _));
        Assert.False(EndOfCallTrailer.TryParse(stderr[..^1], token, out _, out _));
        Assert.True(EndOfCallTrailer.TryParse(EndOfCallTrailer.Format(token, -1), token, out var negative, out _));
        Assert.Equal(-1, negative);
    }
}
