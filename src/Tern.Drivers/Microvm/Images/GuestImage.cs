using System.Text.Json;

namespace Tern.Drivers.Microvm.Images;

/// <summary>A built guest image for one runtime: a kernel, an initramfs (busybox init and the virtio modules) and a
/// read-only ext4 root file system (the runtime, the agent, the runtime assets), in a directory named by the hash of
/// everything that went into it. `IMAGES/RUNTIME/current` names the image in use.</summary>
public sealed record GuestImage(string Runtime, string Hash, string Directory)
{
    public const string KernelFile = "vmlinuz";
    public const string InitrdFile = "initrd.img";
    public const string RootfsFile = "rootfs.ext4";
    public const string ManifestFile = "image.json";
    private const string CurrentFile = "current";

    public string Kernel => Path.Combine(Directory, KernelFile);
    public string Initrd => Path.Combine(Directory, InitrdFile);
    public string Rootfs => Path.Combine(Directory, RootfsFile);

    /// <summary>The image `current` names for the runtime, when it is complete; null when none is built.</summary>
    public static GuestImage? Find(string imagesDir, string runtime)
    {
        var pointer = Path.Combine(imagesDir, runtime, CurrentFile);
        string hash;
        try
        {
            hash = File.ReadAllText(pointer).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        if (hash.Length == 0 || hash.Contains('/') || hash.Contains("..")) return null;
        var image = new GuestImage(runtime, hash, Path.Combine(imagesDir, runtime, hash));
        return image.IsComplete ? image : null;
    }

    /// <summary>The manifest is written last: an image without one was interrupted.</summary>
    public bool IsComplete =>
        File.Exists(Path.Combine(Directory, ManifestFile)) && File.Exists(Kernel) && File.Exists(Initrd) && File.Exists(Rootfs);

    /// <summary>Points `current` at this image (write and rename: a reader sees the old or the new hash).</summary>
    internal void MakeCurrent(string imagesDir)
    {
        var pointer = Path.Combine(imagesDir, Runtime, CurrentFile);
        File.WriteAllText(pointer + ".tmp", Hash + "\n");
        File.Move(pointer + ".tmp", pointer, overwrite: true);
    }

    /// <summary>The SHA-256 of the Tern agent inside the image (null for an image without it in its manifest).</summary>
    public string? AgentSha256()
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory, ManifestFile)));
            return doc.RootElement.TryGetProperty("agentSha256", out var hash) ? hash.GetString() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    internal void WriteManifest(string kernelPackage, long rootfsBytes, string agentSha256)
    {
        using var file = File.Create(Path.Combine(Directory, ManifestFile));
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("runtime", Runtime);
        json.WriteString("hash", Hash);
        json.WriteString("kernelPackage", kernelPackage);
        json.WriteNumber("rootfsBytes", rootfsBytes);
        json.WriteString("agentSha256", agentSha256);
        json.WriteString("builtAt", DateTimeOffset.UtcNow);
        json.WriteEndObject();
    }
}
