using System.Text;
using Tern.Runtimes;

namespace Tern.Drivers.Microvm.Images;

/// <summary>Builds a runtime's guest image (`tern images build RUNTIME`) without root mounts: Debian's cloud kernel from
/// its .deb, an initramfs with static busybox as /init (it loads the virtio modules, mounts the drives and execs the
/// agent), and an ext4 root made with `mkfs.ext4 -d` from the host's own runtime binaries and their libraries (ldd), the
/// Tern agent and the runtime assets. An image is named by the hash of its inputs: building again with nothing changed
/// does nothing; a changed agent, Python or Node makes a new image (and so new snapshots). Recipes: python (the host's
/// python3 and its standard library) and node (the host's node binary, which carries its own standard library).</summary>
public sealed class GuestImageBuilder(string imagesDir, string agentPath, string runtimeAssetsDir)
{
    /// <summary>Bump when what the builder writes changes, so images built by an older one are rebuilt.</summary>
    private const string BuilderVersion = "tern-guest-image/2";

    public const string BusyboxPath = "/bin/busybox";
    public const string MkfsPath = "/usr/sbin/mkfs.ext4";

    public static IReadOnlyList<string> Runtimes { get; } = ["python", "node"];

    /// <summary>Top-level entries of the Python standard library a handler does not need in a VM (tests, GUI, IDLE).</summary>
    private static readonly HashSet<string> PythonSkips =
        ["test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data", "site-packages", "dist-packages"];

    public string ImagesDir { get; } = Path.GetFullPath(imagesDir);

    public async Task<GuestImage> BuildAsync(string runtime, Action<string> progress, CancellationToken ct)
    {
        if (!Runtimes.Contains(runtime))
            throw new InvalidOperationException($"no guest image recipe for runtime '{runtime}' (available: {string.Join(", ", Runtimes)})");
        CheckTools();
        Directory.CreateDirectory(ImagesDir);
        using var buildLock = await LockAsync(progress, ct).ConfigureAwait(false);
        var kernel = await KernelPackage.FetchAsync(Path.Combine(ImagesDir, "_kernels"), progress, ct).ConfigureAwait(false);

        progress($"rootfs: collecting {runtime}, its libraries and the Tern agent");
        var plan = runtime == "node" ? await PlanNodeAsync(ct).ConfigureAwait(false) : await PlanPythonAsync(ct).ConfigureAwait(false);
        var init = GuestInit.Script();
        var hash = plan.Hash([BuilderVersion, kernel.Name, init, FileStamp(BusyboxPath)]);
        var image = new GuestImage(runtime, hash, Path.Combine(ImagesDir, runtime, hash));
        if (image.IsComplete)
        {
            image.MakeCurrent(ImagesDir);
            progress($"image {runtime} {hash[..12]} is up to date ({image.Directory})");
            return image;
        }

        var work = image.Directory + ".tmp";
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(work);
        try
        {
            File.Copy(kernel.Vmlinuz, Path.Combine(work, GuestImage.KernelFile));
            progress("initramfs: busybox /init and the virtio modules");
            WriteInitramfs(Path.Combine(work, GuestImage.InitrdFile), kernel, init);

            var staging = Path.Combine(work, "rootfs");
            progress($"rootfs: staging {plan.FileCount} files");
            var bytes = plan.Stage(staging);
            // Room for ext4's own metadata and inode tables; the drive is mounted read-only, so no free space is needed.
            var sizeKb = bytes / 1024 * 5 / 4 + 16 * 1024;
            progress($"rootfs: mkfs.ext4 -d ({bytes / (1024 * 1024)} MB of files)");
            await HostCommand.CheckAsync(MkfsPath, ["-q", "-F", "-L", GuestInit.RootLabel, "-O", "^has_journal", "-E", "root_owner=0:0",
                "-d", staging, Path.Combine(work, GuestImage.RootfsFile), sizeKb + "k"], ct: ct).ConfigureAwait(false);
            Directory.Delete(staging, recursive: true);

            if (Directory.Exists(image.Directory)) Directory.Delete(image.Directory, recursive: true);
            Directory.Move(work, image.Directory);
            image.WriteManifest(kernel.Name, new FileInfo(image.Rootfs).Length, FileSha256(agentPath));
            image.MakeCurrent(ImagesDir);
            progress($"image {runtime} {hash[..12]} built in {image.Directory}");
            RemoveOlder(image, progress);
            return image;
        }
        catch
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
            throw;
        }
    }

    /// <summary>What a build needs on the host, with the command that installs it; null when all is there.</summary>
    public static string? MissingTool()
    {
        if (!File.Exists(BusyboxPath) || !IsStatic(BusyboxPath))
            return $"no static busybox at {BusyboxPath}: install it with `apt-get install -y busybox-static`";
        if (!File.Exists(MkfsPath)) return $"no {MkfsPath}: install it with `apt-get install -y e2fsprogs`";
        if (!File.Exists("/usr/bin/apt-get") || !File.Exists("/usr/bin/dpkg")) return "apt-get and dpkg are needed to fetch the guest kernel (a Debian host)";
        return null;
    }

    /// <summary>One build at a time per images directory, across processes (two test runs, a user and a script): an
    /// exclusive lock on a file there (.NET takes flock for FileShare.None).</summary>
    private async Task<FileStream> LockAsync(Action<string> progress, CancellationToken ct)
    {
        var path = Path.Combine(ImagesDir, ".build.lock");
        var said = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                if (!said) progress("waiting for another build in " + ImagesDir);
                said = true;
                await Task.Delay(250, ct).ConfigureAwait(false);
            }
        }
    }

    private static void CheckTools()
    {
        if (MissingTool() is { } missing) throw new InvalidOperationException(missing);
    }

    private async Task<RootfsPlan> PlanPythonAsync(CancellationToken ct)
    {
        var plan = new RootfsPlan();
        var python = HostBinary("python", "/code/main.py", "python3");
        var real = new FileInfo(python).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? python;
        plan.AddHostFile(python);
        var version = Path.GetFileName(real); // python3.11
        var stdlib = Path.Combine("/usr/lib", version);
        if (!Directory.Exists(stdlib)) throw new InvalidOperationException($"no standard library at {stdlib} for {real}");
        plan.AddTree(stdlib, stdlib, PythonSkips);
        var dynload = Path.Combine(stdlib, "lib-dynload");
        var elves = new List<string> { real };
        if (Directory.Exists(dynload)) elves.AddRange(Directory.EnumerateFiles(dynload, "*.so"));
        await AddAgentAsync(plan, elves, ct).ConfigureAwait(false);
        return plan;
    }

    /// <summary>Node is one binary with its standard library built in; it needs only its shared libraries.</summary>
    private async Task<RootfsPlan> PlanNodeAsync(CancellationToken ct)
    {
        var plan = new RootfsPlan();
        var node = HostBinary("node", "/code/main.js", "nodejs");
        plan.AddHostFile(node);
        await AddAgentAsync(plan, [new FileInfo(node).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? node], ct).ConfigureAwait(false);
        return plan;
    }

    /// <summary>The runtime's interpreter as the runtime catalog runs it (/usr/bin/python3, /usr/bin/node).</summary>
    private static string HostBinary(string runtime, string handler, string package)
    {
        var binary = RuntimeCatalog.TryGet(runtime, out var definition) ? definition.ProcessCommand(handler, "/tmp/e", 128)[0] : "";
        return File.Exists(binary) ? binary
            : throw new InvalidOperationException($"no {runtime} at {binary} to put in the guest: install it with `apt-get install -y {package}`");
    }

    /// <summary>The agent, the runtime assets and the shared libraries of the given ELF files and of the agent.</summary>
    private async Task AddAgentAsync(RootfsPlan plan, List<string> elves, CancellationToken ct)
    {
        if (!File.Exists(agentPath)) throw new InvalidOperationException($"the Tern agent is missing at {agentPath}: build Tern first");
        plan.AddFile(agentPath, GuestInit.AgentInGuest);
        if (Directory.Exists(runtimeAssetsDir)) plan.AddTree(runtimeAssetsDir, RuntimeCatalog.AssetsDir);
        elves.Add(agentPath);
        await plan.AddLibrariesOfAsync(elves, ct).ConfigureAwait(false);
    }

    private static void WriteInitramfs(string path, KernelPackage kernel, string init)
    {
        using var cpio = new NewcArchive(path);
        foreach (var dir in new[] { "bin", "dev", "proc", "sys", "lib", "lib/modules", "newroot" }) cpio.Directory(dir);
        cpio.File("bin/busybox", File.ReadAllBytes(BusyboxPath), 0b111_101_101);
        cpio.File("init", Encoding.UTF8.GetBytes(init), 0b111_101_101);
        foreach (var module in GuestInit.Modules) cpio.File($"lib/modules/{module}.ko", File.ReadAllBytes(kernel.Module(module)));
    }

    /// <summary>Older images of the runtime go once a new one is current (a running VM keeps its open files; their
    /// snapshots no longer match any key and are replaced at the next cold start).</summary>
    private static void RemoveOlder(GuestImage current, Action<string> progress)
    {
        var removed = 0;
        foreach (var dir in Directory.EnumerateDirectories(Path.GetDirectoryName(current.Directory)!))
        {
            if (dir == current.Directory) continue;
            try
            {
                Directory.Delete(dir, recursive: true);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        if (removed > 0) progress($"removed {removed} older {current.Runtime} image(s)");
    }

    internal static string FileSha256(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file));
    }

    private static string FileStamp(string path)
    {
        var info = new FileInfo(path);
        return $"{path} {info.Length} {info.LastWriteTimeUtc.Ticks}";
    }

    /// <summary>An ELF file with no PT_INTERP program header needs no dynamic loader (the guest's initramfs has none).</summary>
    private static bool IsStatic(string path)
    {
        using var file = File.OpenRead(path);
        var header = new byte[64];
        if (file.Read(header) < 64 || header[0] != 0x7f || header[1] != 'E' || header[4] != 2) return false;
        var phoff = BitConverter.ToInt64(header, 32);
        var phentsize = BitConverter.ToUInt16(header, 54);
        var phnum = BitConverter.ToUInt16(header, 56);
        var entry = new byte[phentsize];
        for (var i = 0; i < phnum; i++)
        {
            file.Position = phoff + (long)i * phentsize;
            if (file.Read(entry) < 4) return false;
            if (BitConverter.ToUInt32(entry, 0) == 3) return false; // PT_INTERP
        }
        return true;
    }
}
