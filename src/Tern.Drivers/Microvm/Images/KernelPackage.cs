namespace Tern.Drivers.Microvm.Images;

/// <summary>Debian's cloud kernel (virtio, no hardware drivers), fetched with `apt-get download` and unpacked with
/// `dpkg -x`: no root mounts, no installation on the host. Kept in the images cache so a rebuild downloads nothing.</summary>
internal sealed record KernelPackage(string Name, string Root)
{
    public const string MetaPackage = "linux-image-cloud-amd64";

    public string Release => Name["linux-image-".Length..];

    /// <summary>Only the kernel and the modules the guest loads are kept (the unpacked package is ~300 MB).</summary>
    public string Vmlinuz => Path.Combine(Root, "vmlinuz");

    public string Module(string name) => Path.Combine(Root, "modules", name + ".ko");

    /// <summary>Resolves the meta package to the versioned one (linux-image-6.1.0-NN-cloud-amd64), downloads and unpacks it
    /// into <paramref name="cacheDir"/> unless it is there.</summary>
    public static async Task<KernelPackage> FetchAsync(string cacheDir, Action<string> progress, CancellationToken ct)
    {
        var depends = await HostCommand.CheckAsync("apt-cache", ["depends", MetaPackage], ct: ct).ConfigureAwait(false);
        var name = depends.Split('\n').Select(l => l.Trim())
            .Where(l => l.StartsWith("Depends: linux-image-", StringComparison.Ordinal))
            .Select(l => l["Depends: ".Length..].Trim())
            .FirstOrDefault()
            ?? throw new InvalidOperationException($"apt-cache names no kernel for {MetaPackage} (run apt-get update)");
        var root = Path.Combine(cacheDir, name);
        var package = new KernelPackage(name, root);
        if (File.Exists(Path.Combine(root, ".unpacked")) && File.Exists(package.Vmlinuz))
        {
            progress($"kernel: {name} (cached)");
            return package;
        }
        System.IO.Directory.CreateDirectory(cacheDir);
        var deb = System.IO.Directory.EnumerateFiles(cacheDir, name + "_*.deb").FirstOrDefault();
        if (deb is null)
        {
            progress($"kernel: downloading {name} (apt-get download)");
            await HostCommand.CheckAsync("apt-get", ["download", "-q", name], cacheDir, TimeSpan.FromMinutes(10), ct).ConfigureAwait(false);
            deb = System.IO.Directory.EnumerateFiles(cacheDir, name + "_*.deb").FirstOrDefault()
                ?? throw new InvalidOperationException($"apt-get download {name} left no .deb in {cacheDir}");
        }
        progress($"kernel: unpacking {Path.GetFileName(deb)} (dpkg -x)");
        var unpacked = root + ".unpack";
        if (System.IO.Directory.Exists(unpacked)) System.IO.Directory.Delete(unpacked, recursive: true);
        if (System.IO.Directory.Exists(root)) System.IO.Directory.Delete(root, recursive: true);
        await HostCommand.CheckAsync("dpkg", ["-x", deb, unpacked], ct: ct).ConfigureAwait(false);
        var release = package.Release;
        var vmlinuz = Path.Combine(unpacked, "boot", "vmlinuz-" + release);
        if (!File.Exists(vmlinuz)) throw new InvalidOperationException($"{deb} holds no boot/vmlinuz-{release}");
        System.IO.Directory.CreateDirectory(Path.Combine(root, "modules"));
        File.Copy(vmlinuz, package.Vmlinuz);
        var modules = Path.Combine(unpacked, "lib", "modules", release, "kernel");
        foreach (var module in GuestInit.Modules)
        {
            var file = System.IO.Directory.EnumerateFiles(modules, module + ".ko", SearchOption.AllDirectories).FirstOrDefault()
                ?? throw new InvalidOperationException($"the kernel package {name} has no module {module}.ko");
            File.Copy(file, package.Module(module));
        }
        System.IO.Directory.Delete(unpacked, recursive: true);
        File.Delete(deb);
        await File.WriteAllTextAsync(Path.Combine(root, ".unpacked"), name, ct).ConfigureAwait(false);
        return package;
    }
}
