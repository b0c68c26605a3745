using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Tern.Testing;

/// <summary>The real daemon as a separate OS process (`dotnet tern.dll daemon`, tern.dll copied next to the tests by the
/// Tern.Cli project reference), so a test can SIGKILL it and start another on the same data directory.</summary>
public sealed class DaemonProcess : IAsyncDisposable
{
    private const int KeptOutputLines = 2000;
    private readonly System.Diagnostics.Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private DaemonProcess(System.Diagnostics.Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the daemon wrote (stdout and stderr), for failure messages.</summary>
    public string RecentOutput => string.Join('\n', _output);

    public static string TernDll => Path.Combine(AppContext.BaseDirectory, "tern.dll");

    /// <summary>Starts a daemon on a free loopback port and waits until /healthz/ready answers 200 (or, with
    /// <paramref name="expectReady"/> false, until /healthz/live does: a daemon missing a component stays unready).</summary>
    /// <param name="environment">Extra environment variables for the daemon (e.g. TERN_RATE_LIMIT=0).</param>
    public static async Task<DaemonProcess> StartAsync(string dataDir, IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? readyTimeout = null, bool expectReady = true)
    {
        if (!File.Exists(TernDll)) throw new FileNotFoundException("tern.dll is not in the test output (the Tern.Cli project reference copies it)", TernDll);
        var port = FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { TernDll, "daemon", "--listen", $"127.0.0.1:{port}", "--data-dir", dataDir }) psi.ArgumentList.Add(arg);
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;

        var process = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        var daemon = new DaemonProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => daemon.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < (readyTimeout ?? TimeSpan.FromSeconds(60)))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"the daemon exited with code {process.ExitCode} before it was ready:\n{daemon.RecentOutput}");
            try
            {
                using var response = await probe.GetAsync(expectReady ? "/healthz/ready" : "/healthz/live");
                if (response.IsSuccessStatusCode) return daemon;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(100);
        }
        await daemon.DisposeAsync();
        throw new TimeoutException($"the daemon did not become ready:\n{daemon.RecentOutput}");
    }

    /// <summary>SIGTERM, as a service manager stops the daemon; true if it exited within <paramref name="within"/>.</summary>
    public bool Terminate(TimeSpan within)
    {
        _ = kill(_process.Id, 15);
        return _process.WaitForExit(within);
    }

    /// <summary>CPU time the daemon process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>The most memory the daemon has held resident at once (VmHWM), in bytes.</summary>
    public long PeakRssBytes => StatusKilobytes("VmHWM:") * 1024;

    /// <summary>What it holds resident now (VmRSS), in bytes.</summary>
    public long RssBytes => StatusKilobytes("VmRSS:") * 1024;

    private long StatusKilobytes(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException($"no {field} in /proc/{_process.Id}/status");
    }

    [System.Runtime.InteropServices.DllImport("libc")] private static extern int kill(int pid, int signal);

    /// <summary>SIGKILL: no shutdown hooks, no flush; exactly a crash.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > KeptOutputLines) _output.TryDequeue(out _);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
