namespace Tern.Drivers;

/// <summary>The isolation drivers this daemon has, by name.</summary>
public sealed class DriverRegistry(IEnumerable<IIsolationDriver> drivers)
{
    private readonly Dictionary<string, IIsolationDriver> _drivers = drivers.ToDictionary(d => d.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _drivers.Keys;

    public IIsolationDriver Get(string name) =>
        _drivers.TryGetValue(name, out var driver) ? driver
            : throw new WorkerStartException($"isolation driver '{name}' is not available on this daemon");
}
