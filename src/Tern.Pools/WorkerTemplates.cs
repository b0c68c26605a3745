using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Drivers;

namespace Tern.Pools;

/// <summary>Spare workers started before any function needs them: a sandbox with its agent connected and an empty
/// /code. A cold start takes one, gives it the function's code and limits, and skips the sandbox boot; the spare is
/// replaced in the background. One small set per driver that supports it (PoolOptions.TemplatesPerDriver).</summary>
public sealed partial class WorkerTemplates(DriverRegistry drivers, IOptions<PoolOptions> options, ILogger<WorkerTemplates> logger)
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<IWorker>> _spares = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _starting = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closing = new();

    public int SpareCount(string driver) => _spares.TryGetValue(driver, out var q) ? q.Count : 0;

    /// <summary>Fills every template-capable driver's spares (daemon start).</summary>
    public void Start()
    {
        foreach (var name in drivers.Names)
            if (drivers.Get(name).SupportsTemplates) Refill(name);
    }

    /// <summary>A live spare worker of this driver, or null when none is ready (the caller then starts a worker itself).</summary>
    public async Task<IWorker?> TryTakeAsync(string driver)
    {
        if (options.Value.TemplatesPerDriver <= 0 || !_spares.TryGetValue(driver, out var queue)) return null;
        try
        {
            while (queue.TryDequeue(out var spare))
            {
                if (!spare.Exited.IsCompleted) return spare;
                await spare.DisposeAsync().ConfigureAwait(false);
            }
            return null;
        }
        finally
        {
            Refill(driver);
        }
    }

    public async Task CloseAsync()
    {
        _closing.Cancel();
        foreach (var queue in _spares.Values)
            while (queue.TryDequeue(out var spare)) await spare.DisposeAsync().ConfigureAwait(false);
    }

    private void Refill(string driver)
    {
        var want = options.Value.TemplatesPerDriver;
        var queue = _spares.GetOrAdd(driver, _ => new ConcurrentQueue<IWorker>());
        while (!_closing.IsCancellationRequested)
        {
            var starting = _starting.GetOrAdd(driver, 0);
            if (queue.Count + starting >= want) return;
            if (_starting.TryUpdate(driver, starting + 1, starting)) _ = StartSpareAsync(driver, queue);
        }
    }

    private async Task StartSpareAsync(string driver, ConcurrentQueue<IWorker> queue)
    {
        try
        {
            var spec = new WorkerSpec { WorkerId = "t" + Guid.CreateVersion7().ToString("N"), FunctionName = "(template)", Code = null };
            var worker = await drivers.Get(driver).StartWorkerAsync(spec, _closing.Token).ConfigureAwait(false);
            if (_closing.IsCancellationRequested) await worker.DisposeAsync().ConfigureAwait(false);
            else queue.Enqueue(worker);
        }
        catch (Exception e) when (e is WorkerStartException or OperationCanceledException or IOException)
        {
            if (!_closing.IsCancellationRequested) LogSpareFailed(e, driver);
        }
        finally
        {
            _starting.AddOrUpdate(driver, 0, (_, n) => n - 1);
        }
    }

    [LoggerMessage(EventId = 330, Level = LogLevel.Warning, Message = "starting a spare worker for driver {Driver} failed")]
    private partial void LogSpareFailed(Exception e, string driver);
}
