using Microsoft.Extensions.Logging;
using Tern.Core.Executions;
using Tern.Storage;

namespace Tern.Invocation.Async;

/// <summary>The only daemon on its store: it runs what it accepts, keeps retries in its own delayed queue, and on start
/// resumes every queued or running async record (including runs a crash cut short): an accepted call runs at least once.</summary>
internal sealed partial class LocalWorkSource(IExecutionStore store, ILogger logger) : IAsyncWorkSource
{
    public async Task StartAsync(IAsyncWorkSink sink, CancellationToken ct)
    {
        var unfinished = await store.ListUnfinishedAsync(ct).ConfigureAwait(false);
        await sink.AddAsync(unfinished, ct).ConfigureAwait(false);
        if (unfinished.Count > 0) LogRecovered(unfinished.Count);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    public bool Offer(ExecutionRecord record) => true;

    public bool Holds(ExecutionRecord record) => true;

    public CancellationToken LeaseLost(ExecutionRecord record) => CancellationToken.None;

    public async Task<bool> WriteAsync(ExecutionRecord record, CancellationToken ct)
    {
        await store.UpdateAsync(record, ct).ConfigureAwait(false);
        return true;
    }

    public bool RetryHere(ExecutionRecord next) => true;

    public void Ended(ExecutionRecord record) { }

    public int Waiting(string function, int local) => local;

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "resumed {Count} unfinished async calls")]
    private partial void LogRecovered(int count);
}
