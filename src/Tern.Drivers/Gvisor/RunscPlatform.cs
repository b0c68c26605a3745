namespace Tern.Drivers.Gvisor;

/// <summary>The platform gVisor traps guest system calls with, decided once per driver from gvisor.platform and what the
/// runsc knows. auto is systrap when the runsc has it (a 2024 build has it; Debian bookworm's of December 2022 does not),
/// else ptrace: systrap serves a system call through shared memory after a seccomp trap in the guest's own thread,
/// ptrace with two ptrace stops and wake-ups of the sentry, several times dearer on this paravirtual VM. kvm is never
/// picked by auto: it needs a /dev/kvm that runs gVisor's guest ring, which a paravirtual KVM (PVM) does not.
/// An explicit platform the runsc does not know is a <see cref="Problem"/> (readiness degraded, registration 400), not
/// a silent fallback.</summary>
/// <param name="Name">The --platform value workers run with; null when <see cref="Problem"/> is set.</param>
/// <param name="Note">Why this one (readiness and `tern status` show it).</param>
internal sealed record RunscPlatform(string? Name, string Note, string? Problem)
{
    public const string Auto = "auto";
    public const string Systrap = "systrap";
    public const string Ptrace = "ptrace";

    public static RunscPlatform Decide(Runsc runsc, string setting)
    {
        var runscName = $"runsc {runsc.Version() ?? "(version unknown)"} at {runsc.Path}";
        if (setting != Auto)
        {
            var (known, error) = runsc.Probe(setting);
            return known
                ? new(setting, $"set by gvisor.platform, {runscName}", null)
                : new(null, "", $"{runscName} does not support the '{setting}' platform set by gvisor.platform ({LastLine(error)}): " +
                    $"install a newer runsc with scripts/install-deps.sh (it puts one at {GvisorOptions.InstalledRunsc}) or set gvisor.platform to auto");
        }
        if (runsc.Probe(Systrap).Known) return new(Systrap, $"auto: {runscName} has systrap", null);
        var (ptrace, ptraceError) = runsc.Probe(Ptrace);
        return ptrace
            ? new(Ptrace, $"auto: {runscName} predates systrap, so ptrace (slower; scripts/install-deps.sh installs a newer runsc at {GvisorOptions.InstalledRunsc})", null)
            : new(null, "", $"{runscName} does not run: {LastLine(ptraceError)}; reinstall it with scripts/install-deps.sh");
    }

    /// <summary>runsc prints a log line and then the bare reason ("unknown platform: systrap").</summary>
    private static string LastLine(string error) =>
        error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no error output";
}
