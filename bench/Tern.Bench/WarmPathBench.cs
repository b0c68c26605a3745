using System.Globalization;

namespace Tern.Bench;

/// <summary>Warm sync calls through the HTTP API (wrk POSTing `:invoke`), with the CPU each process spent per call and
/// the daemon's allocations per call, read from its own tern_process_allocated_bytes_total.</summary>
public static class WarmPathBench
{
    public const string Event = "{\"k\":1}";

    /// <summary>Load until the daemon's JIT has finished its tiered recompilation: measured on this machine, the first
    /// ~15 s of load spend a quarter of the daemon's CPU recompiling (docs/hot-path.md).</summary>
    public static async Task WarmUpAsync(DaemonProcess daemon, IEnumerable<string> functions, TimeSpan each, string lua)
    {
        foreach (var function in functions)
            await WrkLoad.RunAsync(new Uri(daemon.BaseAddress, $"/v1/functions/{function}:invoke"), 8, each, lua);
    }

    public static async Task<WarmRun> ApiAsync(DaemonProcess daemon, string scenario, string function, int connections, TimeSpan duration, string lua)
    {
        var url = new Uri(daemon.BaseAddress, $"/v1/functions/{function}:invoke");
        await WrkLoad.RunAsync(url, connections, TimeSpan.FromSeconds(2), lua); // settle at this concurrency (workers started)
        var allocatedBefore = await daemon.AllocatedBytesAsync();
        var before = ProcessCpu.Take();
        var stats = await WrkLoad.RunAsync(url, connections, duration, lua);
        var after = ProcessCpu.Take();
        var allocatedAfter = await daemon.AllocatedBytesAsync();
        return new WarmRun(scenario, connections, stats, ProcessCpu.PerCall(before, after, daemon.Pid, stats.Count),
            (allocatedAfter - allocatedBefore) / Math.Max(1, stats.Count));
    }

    /// <summary>The same load against the bare ASP.NET Core echo (the HTTP floor).</summary>
    public static async Task<WarmRun> BareAsync(BareEchoProcess echo, int connections, TimeSpan duration, string lua)
    {
        var url = new Uri(echo.BaseAddress, "/echo");
        await WrkLoad.RunAsync(url, connections, TimeSpan.FromSeconds(2), lua);
        var before = ProcessCpu.Take();
        var stats = await WrkLoad.RunAsync(url, connections, duration, lua);
        var after = ProcessCpu.Take();
        return new WarmRun("bare ASP.NET Core echo", connections, stats, ProcessCpu.PerCall(before, after, echo.Pid, stats.Count));
    }

    public static string LuaPost(string dir)
    {
        var lua = Path.Combine(dir, "post.lua");
        Directory.CreateDirectory(dir);
        File.WriteAllText(lua, $"wrk.method = \"POST\"\nwrk.body = '{Event}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n");
        return lua;
    }

    internal static double ParseMetric(string text, string name)
    {
        foreach (var line in text.Split('\n'))
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
                return double.Parse(line[(name.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
        return double.NaN;
    }
}
