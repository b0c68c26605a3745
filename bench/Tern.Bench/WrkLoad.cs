using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Tern.Bench;

/// <summary>HTTP load with wrk (a C load generator, so the client costs little of the two cores), POSTing one event.</summary>
public static partial class WrkLoad
{
    public static async Task<LatencyStats> RunAsync(Uri url, int connections, TimeSpan duration, string luaScript)
    {
        var psi = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-t", Math.Min(connections, 2).ToString(), "-c", connections.ToString(), "-d", $"{(int)duration.TotalSeconds}s",
                     "--latency", "-s", luaScript, url.ToString() })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync(); // reaped here, so getrusage(RUSAGE_CHILDREN) now counts its CPU
        var rps = double.Parse(Rps().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var errors = Non2xx().Match(output) is { Success: true } m ? int.Parse(m.Groups[1].Value) : 0;
        errors += SocketErrors().Match(output) is { Success: true } s ? s.Groups.Cast<Group>().Skip(1).Sum(g => int.Parse(g.Value)) : 0;
        var count = int.Parse(Requests().Match(output).Groups[1].Value);
        return new LatencyStats(rps, Latency(output, "50%"), Latency(output, "99%"), count, errors);
    }

    private static double Latency(string output, string percentile)
    {
        var m = Regex.Match(output, $@"^\s*{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")] private static partial Regex Rps();
    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")] private static partial Regex Non2xx();
    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")] private static partial Regex SocketErrors();
    [GeneratedRegex(@"(\d+) requests in")] private static partial Regex Requests();
}
