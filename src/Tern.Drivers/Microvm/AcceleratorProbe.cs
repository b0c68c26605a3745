using Tern.Drivers.Microvm.Images;

namespace Tern.Drivers.Microvm;

/// <summary>Decides once between KVM and TCG. "auto" picks KVM only if a guest really boots under it: a /dev/kvm that
/// exists but cannot run a stock kernel (a paravirtual KVM such as PVM) would otherwise make every start fail. The answer
/// is kept for the life of the driver and on disk for the host's boot (a probe boot costs seconds).</summary>
internal sealed class AcceleratorProbe(IVmBackend backend, string setting, string stateDir)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(20);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile string? _accelerator;

    /// <summary>kvm or tcg once decided; null before the first VM.</summary>
    public string? Accelerator => _accelerator;

    /// <summary>Why this accelerator (shown in readiness).</summary>
    public string Reason { get; private set; } = "not decided until the first microVM starts";

    public async Task<string> ResolveAsync(GuestImage image, CancellationToken ct)
    {
        if (_accelerator is { } known) return known;
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_accelerator is { } decided) return decided;
            var (accelerator, reason) = await DecideAsync(image, ct).ConfigureAwait(false);
            Reason = reason;
            _accelerator = accelerator;
            return accelerator;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(string, string)> DecideAsync(GuestImage image, CancellationToken ct)
    {
        if (setting is "kvm" or "tcg") return (setting, $"set by microvm.accelerator={setting}");
        if (!File.Exists("/dev/kvm")) return ("tcg", "no /dev/kvm on this host: TCG (software emulation)");
        var cache = Path.Combine(stateDir, "accelerator-probe");
        var bootId = BootId();
        try
        {
            var lines = File.ReadAllLines(cache);
            if (lines.Length >= 3 && lines[0] == bootId && lines[1] == image.Hash) return (lines[2], lines.Length > 3 ? lines[3] : "probed earlier");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        var boots = await backend.BootsAsync(image, "kvm", Path.Combine(stateDir, "probe"), ProbeTimeout, ct).ConfigureAwait(false);
        var result = boots
            ? ("kvm", "a guest booted under KVM")
            : ("tcg", $"/dev/kvm exists but a guest did not boot under it within {ProbeTimeout.TotalSeconds:0} s (a paravirtual KVM?): TCG");
        Directory.CreateDirectory(stateDir);
        File.WriteAllLines(cache, [bootId, image.Hash, result.Item1, result.Item2]);
        return result;
    }

    private static string BootId()
    {
        try { return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(); }
        catch (IOException) { return "unknown"; }
    }
}
