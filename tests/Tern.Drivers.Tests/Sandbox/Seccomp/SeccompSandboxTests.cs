using System.Text;
using System.Text.Json;
using Tern.Testing;

namespace Tern.Drivers.Tests.Sandbox.Seccomp;

/// <summary>A daemon with the system call probe registered once.</summary>
public sealed class SeccompDaemonFixture : DaemonFixture
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateOkAsync("sc-probe", "python", Encoding.UTF8.GetBytes(SyscallProbe.Source), "main.py");
    }
}

/// <summary>The seccomp filter, seen from inside a real worker sandbox started by a real daemon: each refused call
/// fails there as it should, and ordinary work (threads, fork, exec, Node's libuv) still runs. That the EPERM comes from
/// the filter, and not from the worker's lack of privilege, is shown by <see cref="SeccompUnderBubblewrapTests"/>.</summary>
public sealed class SeccompSandboxTests(SeccompDaemonFixture daemon) : IClassFixture<SeccompDaemonFixture>
{
    private const uint Nobody = 65534;

    public static TheoryData<string, int> Refused() => SyscallProbe.Refused();

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task RefusedCall_FailsInsideTheWorkerSandbox(string call, int errno)
    {
        var result = await daemon.InvokeAsync("sc-probe", JsonSerializer.Serialize(new { @case = call }));
        var output = result["output"] ?? throw new Xunit.Sdk.XunitException("no output: " + result.ToJsonString());
        Assert.Equal(errno, (int)output["errno"]!);
    }

    [Fact]
    public async Task Handler_RunsUnderOneSeccompFilter_WithNoNewPrivs()
    {
        const string script = """
            import json
            status = dict(l.split(":\t", 1) for l in open("/proc/self/status").read().splitlines() if ":\t" in l)
            print(json.dumps({k: status.get(k, "").strip() for k in ("Seccomp", "Seccomp_filters", "NoNewPrivs")}))
            """;
        await daemon.CreateOkAsync("sc-status", "python", Encoding.UTF8.GetBytes(script), "main.py");
        var output = (await daemon.InvokeAsync("sc-status"))["output"]!;
        Assert.Equal("2", (string?)output["Seccomp"]); // SECCOMP_MODE_FILTER
        Assert.Equal("1", (string?)output["Seccomp_filters"]);
        Assert.Equal("1", (string?)output["NoNewPrivs"]);
    }

    [RootFact] // the control runs as nobody through setpriv
    public async Task UnshareUserNamespace_FailsInsideTheSandbox_ButWorksForAnUnprivilegedHostUser()
    {
        const string script = """
            import json, subprocess
            r = subprocess.run(["/usr/bin/unshare", "-U", "-r", "/bin/true"], capture_output=True, text=True)
            print(json.dumps({"code": r.returncode, "stderr": r.stderr}))
            """;
        await daemon.CreateOkAsync("sc-unshare", "python", Encoding.UTF8.GetBytes(script), "main.py");
        var output = (await daemon.InvokeAsync("sc-unshare"))["output"]!;
        Assert.NotEqual(0, (int)output["code"]!);
        Assert.Contains("Operation not permitted", (string?)output["stderr"]);

        var (code, stderr) = await HostCommand.RunAsAsync(Nobody, "/usr/bin/unshare", "-U", "-r", "/bin/true");
        Assert.True(code == 0, $"the control (unshare -U -r on the host as nobody) failed: {stderr}");
    }

    [Fact]
    public async Task OrdinaryWork_ThreadsForkExecSubprocess_StillWorks()
    {
        const string script = """
            import ctypes, json, os, subprocess, threading
            results = []
            threads = [threading.Thread(target=lambda i=i: results.append(i * i)) for i in range(8)]
            for t in threads: t.start()
            for t in threads: t.join()
            pid = os.fork()
            if pid == 0:
                os._exit(7)
            _, status = os.waitpid(pid, 0)
            echo = subprocess.run(["/bin/sh", "-c", "echo hello"], capture_output=True, text=True).stdout.strip()
            unshare_fs = ctypes.CDLL(None, use_errno=True).unshare(0x200)  # CLONE_FS: no namespace, allowed
            print(json.dumps({"threads": sorted(results), "fork_exit": os.waitstatus_to_exitcode(status), "echo": echo,
                              "system": os.system("true"), "unshare_fs": unshare_fs}))
            """;
        await daemon.CreateOkAsync("sc-ordinary", "python", Encoding.UTF8.GetBytes(script), "main.py");
        var result = await daemon.InvokeAsync("sc-ordinary");
        var output = result["output"] ?? throw new Xunit.Sdk.XunitException("no output: " + result.ToJsonString());
        Assert.Equal("[0,1,4,9,16,25,36,49]", output["threads"]!.ToJsonString());
        Assert.Equal(7, (int)output["fork_exit"]!);
        Assert.Equal("hello", (string?)output["echo"]);
        Assert.Equal(0, (int)output["system"]!);
        Assert.Equal(0, (int)output["unshare_fs"]!);
    }

    [Fact]
    public async Task Node_WithWorkerThreadsAndChildProcesses_StillWorks()
    {
        // scripts/install-deps.sh installs Node; io_uring (refused) is what libuv would use for file I/O here.
        const string script = """
            const { execFileSync } = require("child_process");
            const { Worker } = require("worker_threads");
            const fs = require("fs");
            const w = new Worker("require('worker_threads').parentPort.postMessage(6 * 7)", { eval: true });
            w.on("message", (answer) => {
              const echo = execFileSync("/bin/sh", ["-c", "echo hi"]).toString().trim();
              fs.writeFileSync("/tmp/x", "y"); // libuv's file I/O, which would use io_uring where allowed
              console.log(JSON.stringify({ answer, echo, read: fs.readFileSync("/tmp/x", "utf8") }));
              w.terminate();
            });
            """;
        await daemon.CreateOkAsync("sc-node", "node", Encoding.UTF8.GetBytes(script), "index.js");
        var result = await daemon.InvokeAsync("sc-node");
        var output = result["output"] ?? throw new Xunit.Sdk.XunitException("no output: " + result.ToJsonString());
        Assert.Equal(42, (int)output["answer"]!);
        Assert.Equal("hi", (string?)output["echo"]);
        Assert.Equal("y", (string?)output["read"]);
    }
}
