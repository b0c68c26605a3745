using System.Diagnostics;
using Tern.Testing;

namespace Tern.Drivers.Tests.Gvisor;

/// <summary>scripts/install-runsc.sh against a local mirror signed by a key of the test's own (LocalDebianMirror: the real
/// mirror is a network boundary): it installs only what the signed Release and Packages vouch for, and a tampered .deb,
/// a tampered index or a signature by another key installs nothing and says why.</summary>
public sealed class RunscInstallerTests : IDisposable
{
    private readonly LocalDebianMirror _mirror = new();

    private string Dest => Path.Combine(_mirror.Dir, "dest", "runsc");

    private (int ExitCode, string Output) Install(string? keyring = null)
    {
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "scripts", "install-runsc.sh"));
        psi.Environment["TERN_RUNSC_MIRROR"] = "file://" + _mirror.Root;
        psi.Environment["TERN_RUNSC_KEYRING"] = keyring ?? _mirror.Keyring;
        psi.Environment["TERN_RUNSC_DEST"] = Dest;
        psi.Environment["TERN_RUNSC_SYSTEM"] = "/nonexistent/runsc"; // as if the system's runsc lacked systrap
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public void LocalMirror_Genuine_InstallsTheVerifiedRunsc_ThenStaysQuiet()
    {
        var (exitCode, output) = Install();
        Assert.True(exitCode == 0, output);
        Assert.Equal(LocalDebianMirror.RunscScript, File.ReadAllText(Dest));
        Assert.Contains(LocalDebianMirror.DebPath, File.ReadAllText(Dest + ".source"));
        Assert.Contains("installed runsc 1.0~test", output);

        // Already there: nothing fetched (a broken mirror would fail otherwise), nothing printed.
        _mirror.TamperDeb();
        Assert.Equal((0, ""), Install());
    }

    [Theory]
    [InlineData("deb", "SHA256 mismatch for " + LocalDebianMirror.DebPath)]
    [InlineData("index", "SHA256 mismatch for main/binary-amd64/Packages.xz")]
    [InlineData("signature", "has no valid signature")]
    public void LocalMirror_Tampered_FailsClosed_InstallingNothing(string tampered, string reason)
    {
        string? keyring = null;
        switch (tampered)
        {
            case "deb": _mirror.TamperDeb(); break;
            case "index": _mirror.TamperIndex(); break;
            default: keyring = _mirror.StrangerKeyring; break;
        }
        var (exitCode, output) = Install(keyring);
        Assert.Equal(1, exitCode);
        Assert.Contains(reason, output);
        Assert.Contains("gVisor keeps the system's runsc (ptrace platform)", output);
        Assert.False(File.Exists(Dest), "a runsc that failed verification was installed");
        Assert.False(File.Exists(Dest + ".new"));
    }

    [Fact]
    public void UnreachableMirror_SaysSo()
    {
        Directory.Delete(_mirror.Root, recursive: true);
        var (exitCode, output) = Install();
        Assert.Equal(1, exitCode);
        Assert.Contains("cannot download file://" + _mirror.Root + "/dists/trixie/InRelease", output);
        Assert.False(File.Exists(Dest));
    }

    public void Dispose() => _mirror.Dispose();
}
