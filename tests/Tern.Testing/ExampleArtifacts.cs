using System.Diagnostics;

namespace Tern.Testing;

/// <summary>Builds examples/ once per test run with the project's own script (which installs Go and wabt if missing).</summary>
public static class ExampleArtifacts
{
    private static readonly Lazy<Task<string>> Built = new(BuildAsync);

    public static Task<string> EnsureBuiltAsync() => Built.Value;

    private static async Task<string> BuildAsync()
    {
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "scripts", "build-examples.sh"));
        psi.ArgumentList.Add(RepoPaths.Examples);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"scripts/build-examples.sh failed ({process.ExitCode}): {await stderr}{await stdout}");
        return RepoPaths.Examples;
    }
}
