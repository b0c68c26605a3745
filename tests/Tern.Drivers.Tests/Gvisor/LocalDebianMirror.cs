using System.Diagnostics;
using System.Security.Cryptography;

namespace Tern.Drivers.Tests.Gvisor;

/// <summary>A Debian mirror on disk (file://) laid out as deb.debian.org's: dists/trixie/InRelease clearsigned by a key of
/// its own, main/binary-amd64/Packages.xz, and a runsc .deb in pool/ holding a stand-in runsc (a shell script that
/// answers --version and accepts --platform=systrap). It replaces the real mirror for scripts/install-runsc.sh's tests,
/// which must not depend on the network; gpg, gpgv, xz and dpkg-deb are the real tools.</summary>
internal sealed class LocalDebianMirror : IDisposable
{
    public const string DebPath = "pool/main/g/golang-gvisor-gvisor/runsc_1.0~test_amd64.deb";
    public const string RunscScript = "#!/bin/sh\ncase \"$*\" in *--version*) echo 'runsc version 1.0~test';; *list*) exit 0;; *) exit 1;; esac\n";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tern-mirror-" + Guid.NewGuid().ToString("N")[..10]);

    public LocalDebianMirror()
    {
        Directory.CreateDirectory(Root);
        Keyring = MakeKey("signer");
        StrangerKeyring = MakeKey("stranger");
        var pkg = Path.Combine(_dir, "pkg");
        Directory.CreateDirectory(Path.Combine(pkg, "DEBIAN"));
        Directory.CreateDirectory(Path.Combine(pkg, "usr", "bin"));
        File.WriteAllText(Path.Combine(pkg, "DEBIAN", "control"),
            "Package: runsc\nVersion: 1.0~test\nArchitecture: amd64\nMaintainer: Tern tests <tests@tern.invalid>\nDescription: stand-in runsc\n");
        File.WriteAllText(Path.Combine(pkg, "usr", "bin", "runsc"), RunscScript);
        File.SetUnixFileMode(Path.Combine(pkg, "usr", "bin", "runsc"), (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Root, DebPath))!);
        Run("dpkg-deb", "--root-owner-group", "--build", pkg, Path.Combine(Root, DebPath));
        WriteIndex(Sha256(Path.Combine(Root, DebPath)));
        Sign("signer");
    }

    /// <summary>The mirror's root, for TERN_RUNSC_MIRROR (as file://).</summary>
    public string Root => Path.Combine(_dir, "mirror");

    /// <summary>The public key that signed InRelease, for TERN_RUNSC_KEYRING.</summary>
    public string Keyring { get; }

    /// <summary>A key that signed nothing here.</summary>
    public string StrangerKeyring { get; }

    public string Dir => _dir;

    /// <summary>Changes the .deb after its hash went into Packages (a compromised mirror's pool).</summary>
    public void TamperDeb() => File.AppendAllText(Path.Combine(Root, DebPath), "x");

    /// <summary>Points Packages at a changed .deb without re-signing the Release that holds Packages.xz's hash.</summary>
    public void TamperIndex()
    {
        TamperDeb();
        WriteIndex(Sha256(Path.Combine(Root, DebPath)));
    }

    private string IndexPath => Path.Combine(Root, "dists", "trixie", "main", "binary-amd64", "Packages.xz");

    private void WriteIndex(string debSha256)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(IndexPath)!);
        var packages = Path.Combine(_dir, "Packages");
        File.WriteAllText(packages, "Package: other\nVersion: 1\nFilename: pool/main/o/other/other_1_amd64.deb\nSHA256: " + new string('0', 64) + "\n\n" +
            $"Package: runsc\nVersion: 1.0~test\nArchitecture: amd64\nFilename: {DebPath}\nSize: {new FileInfo(Path.Combine(Root, DebPath)).Length}\nSHA256: {debSha256}\n\n");
        File.Delete(IndexPath);
        Run("xz", "-k", "-f", packages);
        File.Move(packages + ".xz", IndexPath, overwrite: true);
    }

    private void Sign(string key)
    {
        var release = Path.Combine(_dir, "Release");
        File.WriteAllText(release, "Origin: Tern tests\nSuite: stable\nCodename: trixie\nSHA256:\n" +
            $" {Sha256(IndexPath)} {new FileInfo(IndexPath).Length} main/binary-amd64/Packages.xz\n");
        var inRelease = Path.Combine(Root, "dists", "trixie", "InRelease");
        File.Delete(inRelease);
        Run("gpg", "--homedir", Home(key), "--batch", "--yes", "--clearsign", "--output", inRelease, release);
    }

    private string Home(string key) => Path.Combine(_dir, "gnupg-" + key);

    private string MakeKey(string key)
    {
        Directory.CreateDirectory(Home(key));
        File.SetUnixFileMode(Home(key), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Run("gpg", "--homedir", Home(key), "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
            "--quick-gen-key", $"Tern test {key} <{key}@tern.invalid>", "ed25519", "sign", "never");
        var keyring = Path.Combine(_dir, key + ".gpg");
        File.WriteAllBytes(keyring, Run("gpg", "--homedir", Home(key), "--export").Bytes);
        return keyring;
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static (byte[] Bytes, string Error) Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        using var output = new MemoryStream();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.BaseStream.CopyTo(output);
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result}");
        return (output.ToArray(), error.Result);
    }

    public void Dispose()
    {
        foreach (var key in new[] { "signer", "stranger" })
        {
            try { Run("gpgconf", "--homedir", Home(key), "--kill", "gpg-agent"); } catch (InvalidOperationException) { }
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
