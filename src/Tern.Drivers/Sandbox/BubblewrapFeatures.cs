using System.Diagnostics;

namespace Tern.Drivers.Sandbox;

/// <summary>Options of the installed bubblewrap that not every version has, read once from `bwrap --help`.</summary>
internal sealed record BubblewrapFeatures(bool DisableUserns)
{
    public static BubblewrapFeatures None { get; } = new(DisableUserns: false);

    public static BubblewrapFeatures Probe(string bubblewrapPath)
    {
        try
        {
            var psi = new ProcessStartInfo(bubblewrapPath, "--help")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var process = Process.Start(psi);
            if (process is null) return None;
            var help = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(5000) || !help.Wait(1000)) return None;
            return Parse(help.Result);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return None;
        }
    }

    /// <summary>--disable-userns arrived in bubblewrap 0.8.0.</summary>
    public static BubblewrapFeatures Parse(string help) => new(DisableUserns: help.Contains("--disable-userns", StringComparison.Ordinal));
}
