using System.Text;
using System.Text.Json;
using Tern.Drivers.Sandbox;
using Tern.Testing;

namespace Tern.Drivers.Tests.Sandbox;

/// <summary>Workers of different functions run as different host uids, so what guards one handler's
/// /proc/PID/environ (its secrets) from another is the kernel's ordinary uid check.</summary>
public sealed class SandboxUidTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    /// <summary>Starts a child that holds a secret in its environment and lives for a few seconds; the call ends with it.</summary>
    private const string SecretHolder = """
        import json, os, subprocess, sys
        marker = json.load(open(sys.argv[1]))["marker"]
        child = subprocess.Popen(["/usr/bin/sleep", marker], env={"TERN_TEST_SECRET": "secret-" + marker})
        child.wait()
        print(json.dumps({"uid": os.getuid()}))
        """;

    [RootFact] // worker uids are leased only by a root daemon; the check switches uids with setpriv
    public async Task TwoFunctions_RunAsDifferentHostUids_AndOneCannotReadTheOthersEnviron()
    {
        await daemon.CreateOkAsync("uid-a", "python", Encoding.UTF8.GetBytes(SecretHolder), "main.py");
        await daemon.CreateOkAsync("uid-b", "python", Encoding.UTF8.GetBytes(SecretHolder), "main.py");
        var markerA = $"6.{Random.Shared.Next(100_000, 999_999)}";
        var markerB = $"6.{Random.Shared.Next(100_000, 999_999)}";
        var callA = daemon.InvokeAsync("uid-a", JsonSerializer.Serialize(new { marker = markerA }));
        var callB = daemon.InvokeAsync("uid-b", JsonSerializer.Serialize(new { marker = markerB }));

        var pidA = await HostPidAsync(markerA);
        var pidB = await HostPidAsync(markerB);
        var uidA = HostUid(pidA);
        var uidB = HostUid(pidB);
        var range = new SandboxOptions();
        Assert.InRange(uidA, range.FirstWorkerUid, range.FirstWorkerUid + (uint)range.WorkerUidCount - 1);
        Assert.InRange(uidB, range.FirstWorkerUid, range.FirstWorkerUid + (uint)range.WorkerUidCount - 1);
        Assert.NotEqual(uidA, uidB);

        // Pid namespaces already hide B from inside A's sandbox; the uid is what stops anything running as A's uid on
        // the host (an escaped handler, a process that kept the uid) from reading B's environment.
        var (code, output) = await HostCommand.RunAsAsync(uidA, "/bin/cat", $"/proc/{pidB}/environ");
        Assert.NotEqual(0, code);
        Assert.Contains("Permission denied", output);
        // The control: B's own uid can read it, so the refusal above is the uid check and not something else.
        var (ownCode, own) = await HostCommand.RunAsAsync(uidB, "/bin/cat", $"/proc/{pidB}/environ");
        Assert.True(ownCode == 0, own);
        Assert.Contains("TERN_TEST_SECRET=secret-" + markerB, own.Replace('\0', '\n'));

        Assert.Equal(uidA, (uint)(await callA)["output"]!["uid"]!);
        Assert.Equal(uidB, (uint)(await callB)["output"]!["uid"]!);
    }

    private static async Task<int> HostPidAsync(string marker)
    {
        for (var i = 0; i < 200; i++)
        {
            if (HostProcesses.WithArgument(marker) is [var pid]) return pid;
            await Task.Delay(25);
        }
        throw new TimeoutException($"no host process with argument {marker}");
    }

    private static uint HostUid(int pid) =>
        uint.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t')[1]);
}
