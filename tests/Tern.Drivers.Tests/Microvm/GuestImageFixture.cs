using Tern.Drivers.Microvm.Images;
using Tern.Drivers.Sandbox;

namespace Tern.Drivers.Tests.Microvm;

/// <summary>Builds the python guest image once per test run, with the real builder, into a directory kept between runs
/// (the builder caches by content hash: a second run with nothing changed only hashes its inputs).</summary>
public sealed class GuestImageFixture : IAsyncLifetime
{
    public static readonly string SharedImagesDir = Path.Combine(Path.GetTempPath(), "tern-test-microvm-images");

    public GuestImage Image { get; private set; } = null!;
    public List<string> Progress { get; } = [];

    public async Task InitializeAsync()
    {
        var sandbox = new SandboxOptions();
        var builder = new GuestImageBuilder(SharedImagesDir, sandbox.AgentPath, sandbox.RuntimeAssetsDir);
        Image = await builder.BuildAsync("python", line => { lock (Progress) Progress.Add(line); }, CancellationToken.None);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
