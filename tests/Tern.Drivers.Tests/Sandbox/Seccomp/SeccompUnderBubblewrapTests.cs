using System.Text.Json;
using Tern.Drivers.Sandbox.Seccomp;

namespace Tern.Drivers.Tests.Sandbox.Seccomp;

/// <summary>The filter alone, installed by bubblewrap's --seccomp exactly as the driver installs it, around a probe that
/// runs as root with every capability: each refused call fails under the filter, and the same call without it does
/// not fail with that errno. So a refusal comes from the filter, not from a capability the caller lacks.</summary>
public sealed class SeccompUnderBubblewrapTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tern-seccomp-").FullName;

    public SeccompUnderBubblewrapTests()
    {
        File.WriteAllBytes(Path.Combine(_dir, "filter.bpf"), SeccompFilter.Default);
        File.WriteAllText(Path.Combine(_dir, "probe.py"), SyscallProbe.Source);
    }

    public static TheoryData<string, int> Refused() => SyscallProbe.Refused();

    [RootTheory]
    [MemberData(nameof(Refused))]
    public async Task RefusedCall_FailsUnderTheFilterEvenForRoot_AndNotWithoutIt(string call, int errno)
    {
        Assert.Equal(errno, await ProbeAsync(call, filtered: true));
        Assert.NotEqual(errno, await ProbeAsync(call, filtered: false));
    }

    /// <summary>bubblewrap run by root without a user namespace keeps every capability; its own mount, pid, net, ipc and
    /// uts namespaces keep whatever an unfiltered call does away from the host. No --die-with-parent: the kernel sends
    /// that signal when the thread that started the process exits, and a thread-pool thread may (the driver starts its
    /// launchers from a thread of their own for this reason).</summary>
    private async Task<int> ProbeAsync(string call, bool filtered)
    {
        var eventFile = Path.Combine(_dir, $"{call}.json");
        await File.WriteAllTextAsync(eventFile, JsonSerializer.Serialize(new { @case = call }));
        string[] bwrap =
        [
            "/usr/bin/bwrap", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            .. filtered ? new[] { "--seccomp", "3" } : [],
            "/usr/bin/python3", Path.Combine(_dir, "probe.py"), eventFile,
        ];
        var filter = filtered ? Path.Combine(_dir, "filter.bpf") : "/dev/null";
        var (code, output) = await HostCommand.RunAsync("/bin/sh", ["-c", "f=$1; shift; exec \"$@\" 3<\"$f\"", "probe", filter, .. bwrap]);
        Assert.True(code == 0, $"the probe failed ({code}): {output}");
        return JsonDocument.Parse(output).RootElement.GetProperty("errno").GetInt32();
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
