using Microsoft.Extensions.Options;
using Tern.Core.Functions;

namespace Tern.Drivers;

/// <summary>The isolation drivers this daemon has, by name, and the one functions get when they name none.</summary>
public sealed class DriverRegistry(IEnumerable<IIsolationDriver> drivers, IOptions<DriverOptions>? options = null)
{
    private readonly Dictionary<string, IIsolationDriver> _drivers = drivers.ToDictionary(d => d.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _drivers.Keys;

    /// <summary>The daemon's default isolation (drivers.defaultIsolation).</summary>
    public string Default { get; } = options?.Value.DefaultIsolation ?? FunctionLimits.DefaultIsolation;

    public IIsolationDriver Get(string name) =>
        _drivers.TryGetValue(name, out var driver) ? driver
            : throw new WorkerStartException($"isolation driver '{name}' is not available on this daemon");

    /// <summary>Why the named driver cannot start workers now (see <see cref="IIsolationDriver.Problem"/>); null when it
    /// can, or when this daemon has no such driver (validation reports that).</summary>
    public string? Problem(string name) => _drivers.TryGetValue(name, out var driver) ? driver.Problem() : null;
}
