using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tern.Core.Functions;
using Tern.Core.Telemetry;
using Tern.Drivers;
using Tern.Pools;
using Tern.Storage.Code;
using Tern.Storage.Secrets;

namespace Tern.Testing.FakeDriver;

/// <summary>The real PoolManager (and WorkerTemplates) over a <see cref="FakeDriver"/> and a FakeTimeProvider: what unit
/// tests of pools and invocation build on. Nothing here is mocked but the driver and the clock.</summary>
public sealed class PoolRig : IAsyncDisposable
{
    /// <summary>A fixed start, so times in failures read the same on every run.</summary>
    public static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public PoolRig(Action<PoolOptions>? configure = null)
    {
        Driver = new FakeDriver(Time);
        // No spare workers unless a test asks for them: a start then always goes to the driver, so counts are exact.
        Options = new PoolOptions { TemplatesPerDriver = 0 };
        configure?.Invoke(Options);
        var drivers = new DriverRegistry([Driver]);
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        Templates = new WorkerTemplates(drivers, options, Time, NullLogger<WorkerTemplates>.Instance);
        Pools = new PoolManager(drivers, Templates, options, Time, NullLogger<PoolManager>.Instance,
            new NoSecrets(), Metrics);
    }

    public FakeTimeProvider Time { get; } = new(Epoch);
    public FakeDriver Driver { get; }
    public PoolOptions Options { get; }
    public TernMetrics Metrics { get; } = new();
    internal WorkerTemplates Templates { get; }
    public PoolManager Pools { get; }

    /// <summary>A function on the fake driver; <paramref name="tweak"/> sets what the test is about.</summary>
    public static FunctionDefinition Function(string name = "fn", Func<FunctionDefinition, FunctionDefinition>? tweak = null)
    {
        var function = new FunctionDefinition
        {
            Name = name, Runtime = "python", Handler = "main.py", CodeHash = new string('a', 64), CodeFileName = "main.py",
            Isolation = FakeDriver.DefaultName, CreatedAt = Epoch, UpdatedAt = Epoch,
        };
        return tweak is null ? function : tweak(function);
    }

    public async ValueTask DisposeAsync()
    {
        await Pools.CloseAllAsync();
        await Templates.CloseAsync();
        Metrics.Dispose();
    }

    /// <summary>Functions in these tests reference no secrets; one that did would fail its start as in production.</summary>
    private sealed class NoSecrets : ISecretResolver
    {
        public Task<SecretLookup> ResolveAsync(string name, string function, CancellationToken ct = default) =>
            Task.FromResult(new SecretLookup(SecretLookupStatus.NotFound));
    }
}
