using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Tern.Drivers.Microvm.Images;
using Tern.Drivers.Sandbox;
using Tern.Drivers.Sandbox.Uids;

namespace Tern.Drivers.Microvm.Qemu;

/// <summary>VMs on QEMU's `microvm` machine: no PCI, no firmware, no emulated legacy devices beyond one UART for the
/// console; the kernel is loaded directly; virtio devices sit on virtio-mmio. Devices: the root and code drives
/// (virtio-blk, read-only), one virtio-serial port whose host end is a Unix socket (the agent's channel), and no
/// network device at all. Snapshots are QEMU's migration stream: saved (`migrate` over QMP) into a descriptor of the
/// snapshot file that the daemon opens and passes over QMP, restored (`-incoming`) from a Unix socket the daemon feeds
/// the file into; QEMU itself never spawns a process and runs under its seccomp filter (`-sandbox`, with spawning and
/// obsolete system calls denied). When the daemon is root, each QEMU drops to a uid of its own in an empty chroot once
/// it has opened its files (<see cref="QemuPrivileges"/>), and opens no path after that.</summary>
/// <param name="uids">Where each VM's uid is leased from; null when the daemon is not root (QEMU then runs as its user).</param>
internal sealed class QemuBackend(string qemuPath, WorkerUidPool? uids = null) : IVmBackend
{
    private readonly QemuPrivileges _privileges = new(qemuPath);

    public string Name => "qemu";

    /// <summary>2: tsc=reliable joined the kernel arguments (a snapshot keeps the kernel's clocksource choice).</summary>
    public string MachineRevision => "2";

    public string? Problem()
    {
        if (!File.Exists(qemuPath))
            return $"QEMU is not installed: no {qemuPath}; install it with `apt-get install -y qemu-system-x86` (or scripts/install-deps.sh)";
        if (Posix.access(qemuPath, Posix.X_OK) != 0)
            return $"{qemuPath} cannot be executed: reinstall it with `apt-get install --reinstall -y qemu-system-x86`";
        return null;
    }

    public async Task<VmInstance> LaunchAsync(VmLaunch launch, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var uid = uids?.Rent();
        Process process;
        try
        {
            process = Start(Arguments(launch, uid));
        }
        catch
        {
            uid?.Dispose();
            throw;
        }
        var vm = new VmInstance(launch, process, new StderrTail(process), uid);
        if (launch.RestoreFrom is not null)
        {
            try
            {
                await FeedAsync(launch.RestoreFrom, IncomingSocket(launch), vm.Exited, ct).ConfigureAwait(false);
            }
            catch
            {
                MicrovmDriver.KillQuietly(process);
                throw;
            }
        }
        return vm;
    }

    private static string IncomingSocket(VmLaunch launch) => Path.Combine(launch.Dir, "incoming.sock");

    private ProcessStartInfo Arguments(VmLaunch launch, WorkerUid? uid)
    {
        var psi = Command(launch.Image, launch.Accelerator, launch.MemoryMb, launch.Vcpus, launch.ConsoleLog, probe: false,
            uid, Path.Combine(launch.Dir, "root"));
        psi.ArgumentList.Add("-device");
        psi.ArgumentList.Add("virtio-serial-device");
        psi.ArgumentList.Add("-chardev");
        psi.ArgumentList.Add($"socket,id=agent,path={launch.AgentSocket},server=on,wait=off");
        psi.ArgumentList.Add("-device");
        psi.ArgumentList.Add("virtserialport,chardev=agent,name=tern.0");
        Drive(psi, "root", launch.Image.Rootfs);
        if (launch.CodeDrive is not null) Drive(psi, "code", launch.CodeDrive);
        psi.ArgumentList.Add("-pidfile");
        psi.ArgumentList.Add(launch.PidFile);
        psi.ArgumentList.Add("-qmp");
        psi.ArgumentList.Add($"unix:{launch.ControlSocket},server=on,wait=off");
        if (launch.RestoreFrom is not null)
        {
            psi.ArgumentList.Add("-incoming"); // QEMU listens before it drops root: the daemon connects and feeds the file
            psi.ArgumentList.Add("unix:" + IncomingSocket(launch));
        }
        return psi;
    }

    private static Process Start(ProcessStartInfo psi)
    {
        var process = Process.Start(psi) ?? throw new WorkerStartException("could not start qemu");
        process.StandardInput.Close();
        return process;
    }

    /// <summary>Streams a snapshot into the QEMU that waits for it on <paramref name="socketPath"/>.</summary>
    private static async Task FeedAsync(string snapshot, string socketPath, Task exited, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        using var socket = await AgentHandshake.ConnectAsync(socketPath, exited, limit.Token).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await using var file = new FileStream(snapshot, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        await file.CopyToAsync(stream, 1 << 20, limit.Token).ConfigureAwait(false);
        socket.Shutdown(SocketShutdown.Send);
    }

    public async Task SaveSnapshotAsync(VmInstance vm, string path, CancellationToken ct)
    {
        await using var qmp = await QmpClient.ConnectAsync(vm.Launch.ControlSocket, ct).ConfigureAwait(false);
        using (var file = File.OpenHandle(path, FileMode.Create, FileAccess.Write))
            await qmp.PassDescriptorAsync("snapshot", file, ct).ConfigureAwait(false); // QEMU holds its own copy now
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            // Live migration of an idle guest converges in one pass; the source is left paused ("postmigrate") and resumes
            // with cont, so the worker that was snapshotted goes on serving.
            await qmp.ExecuteAsync("migrate", a => a.WriteString("uri", "fd:snapshot"), limit.Token).ConfigureAwait(false);
            while (true)
            {
                var state = await qmp.ExecuteAsync("query-migrate", null, limit.Token).ConfigureAwait(false);
                var status = state.TryGetProperty("status", out var s) ? s.GetString() : null;
                if (status == "completed") break;
                if (status is "failed" or "cancelled")
                    throw new InvalidOperationException($"snapshot failed: {(state.TryGetProperty("error-desc", out var d) ? d.GetString() : status)}");
                await Task.Delay(20, limit.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await qmp.ExecuteAsync("migrate_cancel", null, CancellationToken.None).ConfigureAwait(false);
            throw new InvalidOperationException("snapshot did not complete within 60 s");
        }
        finally
        {
            await qmp.ExecuteAsync("cont", null, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public async Task<bool> BootsAsync(GuestImage image, string accelerator, string workDir, TimeSpan timeout, CancellationToken ct)
    {
        Directory.CreateDirectory(workDir);
        var console = Path.Combine(workDir, "probe-console.log");
        File.Delete(console);
        using var uid = uids?.Rent();
        using var process = Start(Command(image, accelerator, 256, 1, console, probe: true, uid, Path.Combine(workDir, "root")));
        _ = new StderrTail(process); // drains its pipes
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            return false;
        }
        return File.Exists(console) && File.ReadAllText(console).Contains(GuestInit.ProbeMarker, StringComparison.Ordinal);
    }

    private ProcessStartInfo Command(GuestImage image, string accelerator, int memoryMb, int vcpus, string console, bool probe,
        WorkerUid? uid, string emptyRoot)
    {
        var psi = new ProcessStartInfo(qemuPath)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        var kvm = accelerator == "kvm";
        // Without tsc_early_khz, 2 of 3 TCG boots hung after "tsc: Marking TSC unstable" (docs/microvm.md). tsc=reliable:
        // microvm has no HPET or PM timer, so the kernel's clocksource watchdog checks the TSC against jiffies, which lose
        // ticks whenever the host is busy; it then marks the TSC unstable and falls back to jiffies, and the guest's wall
        // clock falls seconds behind. Under TCG the guest's TSC is the host's, so it is the right clock to trust.
        var append = $"console=ttyS0 panic=-1 quiet tsc_early_khz={HostTscKhz()} tsc=reliable tern.time={DateTimeOffset.UtcNow.ToUnixTimeSeconds()}";
        if (probe) append += " tern.probe=1";
        string[] args =
        [
            "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=off",
            "-accel", kvm ? "kvm" : "tcg",
            "-cpu", kvm ? "host" : "max",
            "-m", memoryMb.ToString(CultureInfo.InvariantCulture) + "M",
            "-smp", vcpus.ToString(CultureInfo.InvariantCulture),
            "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
            "-nic", "none", // no network device at all: the guest has only lo
            "-serial", "file:" + console,
            "-kernel", image.Kernel, "-initrd", image.Initrd, "-append", append,
            "-no-reboot",
        ];
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        IReadOnlyList<string> drop = uid is null ? [] : _privileges.Arguments(uid.Value, emptyRoot);
        if (drop.Count > 0)
        {
            Directory.CreateDirectory(emptyRoot);
            foreach (var arg in drop) psi.ArgumentList.Add(arg);
        }
        // QEMU's own seccomp filter: no exec, no obsolete or resource-control system calls. It is installed before QEMU
        // drops root, so set*id calls must stay allowed for the drop; afterwards they cannot regain anything (every uid of
        // the process is the leased one and it has no capabilities), and with exec denied no setuid program can run.
        psi.ArgumentList.Add("-sandbox");
        psi.ArgumentList.Add($"on,obsolete=deny,elevateprivileges={(drop.Count > 0 ? "allow" : "deny")},spawn=deny,resourcecontrol=deny");
        return psi;
    }

    private static void Drive(ProcessStartInfo psi, string id, string file)
    {
        psi.ArgumentList.Add("-drive");
        psi.ArgumentList.Add($"id={id},file={file},format=raw,if=none,readonly=on");
        psi.ArgumentList.Add("-device");
        psi.ArgumentList.Add($"virtio-blk-device,drive={id}");
    }

    private static readonly Lazy<long> TscKhz = new(ReadTscKhz);

    private static long HostTscKhz() => TscKhz.Value;

    /// <summary>The host's CPU clock in kHz (the TSC rate on a host with a constant TSC), from /proc/cpuinfo.</summary>
    private static long ReadTscKhz()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (!line.StartsWith("cpu MHz", StringComparison.Ordinal)) continue;
                var value = line[(line.IndexOf(':') + 1)..].Trim();
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var mhz)) return (long)(mhz * 1000);
            }
        }
        catch (IOException)
        {
        }
        return 2_000_000;
    }
}
