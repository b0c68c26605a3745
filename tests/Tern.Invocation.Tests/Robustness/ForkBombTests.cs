using System.Diagnostics;
using System.Text;
using Tern.Testing;

namespace Tern.Invocation.Tests.Robustness;

/// <summary>A fork bomb in a real sandbox. Before issue 9 it was reported as OutOfMemory and outlived its timeout
/// (17 s for a 15 s limit); now it is a Timeout that names the limit it reached (processes or memory), ends on time, and leaves nothing behind.</summary>
public sealed class ForkBombTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    private const string Bomb = """
        import json, os, sys, time
        if not json.load(open(sys.argv[1])).get("bomb"):
            print('"warm"')
            sys.exit(0)
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.001)
        """;

    [Fact]
    public async Task ForkBomb_IsATimeoutNamingTheProcessLimit_EndsOnTime_AndLeavesNoProcesses()
    {
        var file = $"bomb_{Guid.NewGuid():N}.py";
        await daemon.CreateOkAsync("fork-bomb", "python", Encoding.UTF8.GetBytes(Bomb), file, new { timeoutMs = 3000 });

        Assert.Equal("warm", (string?)(await daemon.InvokeAsync("fork-bomb"))["output"]); // the sandbox is started: time only the bomb

        var clock = Stopwatch.StartNew();
        var call = daemon.InvokeAsync("fork-bomb", """{"bomb": true}""");
        var most = 0;
        while (!call.IsCompleted)
        {
            most = Math.Max(most, CountProcessesRunning(file));
            await Task.WhenAny(call, Task.Delay(200));
        }
        var result = await call;
        var took = clock.Elapsed;
        Assert.True(most > 10, $"saw at most {most} copies of the bomb while it ran: the count below would prove nothing");

        Assert.Equal("timeout", (string?)result["status"]);
        Assert.Equal("Timeout", (string?)result["error"]!["code"]);
        // Which limit the bomb meets first depends on the machine's load: forks are refused at the process limit, or the
        // copies' memory fills the cgroup first (seen in a loaded full-suite run). Either is named.
        var message = (string?)result["error"]!["message"] ?? "";
        Assert.True(message.Contains("processes", StringComparison.Ordinal) || message.Contains("memory", StringComparison.Ordinal),
            $"the timeout should name the limit the bomb reached: {message}");
        Assert.True(took < TimeSpan.FromSeconds(3 + 3), $"the call took {took.TotalSeconds:F1} s for a 3 s timeout");

        // Every forked copy is gone soon after (the worker's cgroup was killed, not just its first process).
        var deadline = Stopwatch.StartNew();
        int left;
        while ((left = CountProcessesRunning(file)) > 0 && deadline.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(100);
        Assert.Equal(0, left);
    }

    private static int CountProcessesRunning(string marker)
    {
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(marker, StringComparison.Ordinal)) count++;
            }
            catch (IOException) { } // exited meanwhile
            catch (UnauthorizedAccessException) { }
        }
        return count;
    }
}
