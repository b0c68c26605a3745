using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;

namespace Tern.Bench;

/// <summary>The real daemon as a separate process (the built CLI's `tern daemon`), on a free port with its own data dir.</summary>
public sealed class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDir;

    private DaemonProcess(Process process, string dataDir, Uri baseAddress)
    {
        _process = process;
        _dataDir = dataDir;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(2) };
    }

    public Uri BaseAddress { get; }
    public HttpClient Client { get; }
    public int Pid => _process.Id;
    public string DataDir => _dataDir;

    /// <param name="environment">Extra environment for the daemon, e.g. TERN_RATE_LIMIT=0 so the global admission limit does not cap the load.</param>
    public static async Task<DaemonProcess> StartAsync(string ternDll, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = FreePort();
        var dataDir = Path.Combine(Path.GetTempPath(), "tern-bench-" + Guid.NewGuid().ToString("N"));
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { ternDll, "daemon", "--listen", $"127.0.0.1:{port}", "--data-dir", dataDir }) psi.ArgumentList.Add(a);
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var daemon = new DaemonProcess(process, dataDir, new Uri($"http://127.0.0.1:{port}"));
        for (var i = 0; i < 150; i++)
        {
            try
            {
                if ((await daemon.Client.GetAsync("/healthz/ready")).IsSuccessStatusCode) return daemon;
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        throw new InvalidOperationException("the daemon did not become ready");
    }

    public async Task CreateAsync(object definition)
    {
        using var response = await Client.PostAsJsonAsync("/v1/functions", definition);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"create failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>The daemon's tern_process_allocated_bytes_total (managed bytes allocated since it started).</summary>
    public async Task<double> AllocatedBytesAsync() =>
        WarmPathBench.ParseMetric(await Client.GetStringAsync("/metrics"), "tern_process_allocated_bytes_total");

    /// <summary>Resident set size of the daemon process, in MB.</summary>
    public double RssMb() => Rss.OfPid(_process.Id);

    /// <summary>SIGTERM, as a service manager stops it; true when it exited within <paramref name="within"/>.</summary>
    public async Task<bool> StopAsync(TimeSpan within)
    {
        if (_process.HasExited) return true;
        _ = kill(_process.Id, 15);
        try
        {
            await _process.WaitForExitAsync().WaitAsync(within);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")] private static extern int kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException) { }
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    internal static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}
