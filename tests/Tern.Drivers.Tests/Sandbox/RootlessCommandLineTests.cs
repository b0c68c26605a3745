using Tern.Drivers.Sandbox;

namespace Tern.Drivers.Tests.Sandbox;

/// <summary>The command line a daemon that is not root gives bubblewrap (--unshare-user), run for real by an
/// unprivileged uid, with a command in place of the agent.</summary>
public sealed class RootlessCommandLineTests : IDisposable
{
    private const uint Nobody = 65534;
    private readonly string _dir = Directory.CreateTempSubdirectory("tern-rootless-").FullName;

    public RootlessCommandLineTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "code"));
        Directory.CreateDirectory(Path.Combine(_dir, "worker"));
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101); // an unprivileged bubblewrap must reach what it binds
    }

    /// <summary>bubblewrap with the rootless worker's arguments, running `unshare -U -r /bin/true` as the "agent"
    /// (the agent path is bound at the agent's place in the sandbox), without the seccomp filter: the user namespace
    /// layer on its own.</summary>
    private async Task<(int Code, string Output)> UnshareInsideAsync(bool disableUserns)
    {
        var options = new SandboxOptions { AgentPath = "/usr/bin/unshare", RuntimeAssetsDir = Path.Combine(_dir, "none") };
        var spec = new WorkerSpec { WorkerId = "w", FunctionName = "f", Code = new LocalCodeSource().Add(Path.Combine(_dir, "code")) };
        var args = BubblewrapCommandLine.Build(spec, new CodeMount(Path.Combine(_dir, "code"), null), options, Path.Combine(_dir, "worker"), "", asRoot: false,
            seccompFd: null, disableUserns: disableUserns);
        return await HostCommand.RunAsAsync(Nobody, ["/usr/bin/bwrap", .. args, "-U", "-r", "/bin/true"]);
    }

    [RootFact] // runs bubblewrap as nobody through setpriv
    public async Task DisableUserns_NestedUserNamespace_IsRefusedEvenWithoutSeccomp()
    {
        Assert.True(BubblewrapFeatures.Probe("/usr/bin/bwrap").DisableUserns, "bubblewrap here is 0.8.0, which has --disable-userns");
        var (code, output) = await UnshareInsideAsync(disableUserns: true);
        Assert.NotEqual(0, code);
        Assert.Contains("unshare failed", output); // ENOSPC: the namespace's max_user_namespaces is used up by itself
    }

    [RootFact]
    public async Task WithoutDisableUserns_TheSameCommand_CreatesOne()
    {
        // The control: the refusal above is --disable-userns, not something else in the sandbox.
        var (code, output) = await UnshareInsideAsync(disableUserns: false);
        Assert.True(code == 0, output);
    }

    [Fact]
    public void Features_ParseTheHelpText()
    {
        Assert.True(BubblewrapFeatures.Parse("    --disable-userns             Disable further use of user namespaces inside sandbox").DisableUserns);
        Assert.False(BubblewrapFeatures.Parse("    --unshare-user               Create new user namespace").DisableUserns);
        Assert.False(BubblewrapFeatures.Probe("/nonexistent/bwrap").DisableUserns);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
