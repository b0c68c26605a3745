using System.ComponentModel.DataAnnotations;
using Tern.Core.Settings;

namespace Tern.Drivers.Microvm;

/// <summary>The microVM driver (section "microvm"). The agent binary and the runtime assets that go into guest images are
/// the sandbox driver's settings (section "sandbox").</summary>
public sealed class MicrovmOptions
{
    public const string Section = "microvm";

    [Setting("The QEMU binary that runs microVMs (Debian package qemu-system-x86)", Environment = "TERN_QEMU")]
    [Required]
    public string QemuPath { get; set; } = "/usr/bin/qemu-system-x86_64";

    /// <summary>`tern images build RUNTIME --data-dir D` writes to D/images, the default here.</summary>
    [Setting("Where guest images (kernel, initramfs, root file system per runtime) are kept; empty: {daemon.dataDir}/images")]
    public string? ImagesDir { get; set; }

    /// <summary>Code drives (cached by code hash) and VM snapshots live here. Keep it short: sockets live in it.</summary>
    [Setting("Where microVM workers' directories, code drives and snapshots live; empty: {daemon.dataDir}/m")]
    public string? StateDir { get; set; }

    [Setting("The accelerator: auto (KVM when a guest really boots under it, else TCG), kvm or tcg")]
    [AllowedValues("auto", "kvm", "tcg")]
    public string Accelerator { get; set; } = "auto";

    /// <summary>The guest kernel and the agent live in the VM's memory beside the handler: without headroom a function's
    /// memoryMb would be partly theirs.</summary>
    [Setting("Memory in MB added to a microVM's RAM for the guest kernel and the agent")]
    [Range(32, 4096)]
    public int MemoryOverheadMb { get; set; } = 96;

    [Setting("Save a VM snapshot after a function's first cold boot and restore later cold starts from it")]
    public bool Snapshots { get; set; } = true;

    [Setting("How long a microVM may take to boot (or restore) and connect its agent; TCG boots take seconds")]
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
