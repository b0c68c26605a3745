using System.Diagnostics;

namespace Tern.Bench;

/// <summary>bench/BareEcho (a minimal-API POST echo) as a separate process: the HTTP floor measured in the same run.</summary>
public sealed class BareEchoProcess : IAsyncDisposable
{
    private readonly Process _process;

    private BareEchoProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public int Pid => _process.Id;

    public static async Task<BareEchoProcess> StartAsync(string dll)
    {
        var port = DaemonProcess.FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, "--urls", $"http://127.0.0.1:{port}" }) psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var echo = new BareEchoProcess(process, new Uri($"http://127.0.0.1:{port}"));
        using var client = new HttpClient();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var response = await client.PostAsync(new Uri(echo.BaseAddress, "/echo"), new StringContent("{}"));
                if (response.IsSuccessStatusCode) return echo;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("the bare echo did not start");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
