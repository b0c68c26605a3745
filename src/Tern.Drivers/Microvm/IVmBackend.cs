namespace Tern.Drivers.Microvm;

/// <summary>What the microVM driver needs from a hypervisor: launch a VM (a cold boot, or a restore from a snapshot),
/// save a running VM's state to a file, and say what is missing. QEMU's microvm machine is the one backend today; a
/// Firecracker backend (its API socket, its snapshot files) would implement the same seam and callers would not change.</summary>
internal interface IVmBackend
{
    string Name { get; }

    /// <summary>Changes whenever the machine a snapshot captures changes beyond the image (kernel arguments, devices), so
    /// snapshots saved by an older Tern are not restored into a machine they no longer match.</summary>
    string MachineRevision { get; }

    /// <summary>What stops this backend from launching VMs (a missing binary, with the command that installs it).</summary>
    string? Problem();

    /// <summary>Starts the VM process; returns once it runs (the agent may still be booting).</summary>
    Task<VmInstance> LaunchAsync(VmLaunch launch, CancellationToken ct);

    /// <summary>Writes the running VM's state (memory and devices) to <paramref name="path"/>; the VM runs on afterwards.</summary>
    Task SaveSnapshotAsync(VmInstance vm, string path, CancellationToken ct);

    /// <summary>Boots the image's kernel under <paramref name="accelerator"/> far enough to run the guest's init; false if it
    /// failed or hung within <paramref name="timeout"/>. Used once per host boot to decide between KVM and TCG.</summary>
    Task<bool> BootsAsync(Images.GuestImage image, string accelerator, string workDir, TimeSpan timeout, CancellationToken ct);
}
