using Tern.Core.Executions;
using Tern.Storage;

namespace Tern.Invocation.Tests.Unit;

/// <summary>AsyncDispatcher resumes the store's unfinished calls before StartAsync returns, so the server (started after
/// the hosted services) cannot accept a call that recovery would list as well and run a second time.</summary>
public sealed class RecoveryAtStartTests
{
    [Fact]
    public async Task StartAsync_ReturnsOnlyAfterRecoveryHasListedTheStore_AndEveryCallRunsOnce()
    {
        var listing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var rig = new DispatcherRig(wrapStore: store => new SlowListingStore(store, listing.Task));
        var function = await rig.CreateAsync("resumed");
        var leftOver = await rig.InsertQueuedAsync(function);

        var start = rig.Dispatcher.StartAsync(CancellationToken.None);
        await Task.Delay(200);
        Assert.False(start.IsCompleted, "StartAsync returned while recovery was still listing the store");
        listing.SetResult();
        await start;

        var accepted = await rig.EnqueueAsync(function);
        await rig.WaitForAsync(async () => (await rig.GetAsync(leftOver)).Status == ExecutionStatus.Success
            && (await rig.GetAsync(accepted)).Status == ExecutionStatus.Success, "both calls to finish");
        Assert.Equal(2, rig.Driver.Execs.Count);
    }

    /// <summary>The real store, with ListUnfinishedAsync held until the test lets it answer.</summary>
    private sealed class SlowListingStore(IExecutionStore inner, Task gate) : IExecutionStore
    {
        public async Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedAsync(CancellationToken ct = default)
        {
            await gate.WaitAsync(ct);
            return await inner.ListUnfinishedAsync(ct);
        }

        public Task InsertAsync(ExecutionRecord record, CancellationToken ct = default) => inner.InsertAsync(record, ct);
        public Task UpdateAsync(ExecutionRecord record, CancellationToken ct = default) => inner.UpdateAsync(record, ct);
        public Task<ExecutionPage> ListAsync(ExecutionQuery query, CancellationToken ct = default) => inner.ListAsync(query, ct);
        public Task<ExecutionRecord?> GetAsync(string executionId, CancellationToken ct = default) => inner.GetAsync(executionId, ct);
        public Task FlushAsync(CancellationToken ct = default) => inner.FlushAsync(ct);
        public Task<ExecutionRecord?> FindByIdempotencyKeyAsync(string function, string idempotencyKey, CancellationToken ct = default) =>
            inner.FindByIdempotencyKeyAsync(function, idempotencyKey, ct);
        public Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedSyncAsync(CancellationToken ct = default) => inner.ListUnfinishedSyncAsync(ct);
        public Task<bool> ReleaseIdempotencyKeyAsync(string executionId, CancellationToken ct = default) =>
            inner.ReleaseIdempotencyKeyAsync(executionId, ct);
        public Task<IReadOnlyList<ExecutionRecord>> ListDeadLettersAsync(string function, int limit, CancellationToken ct = default) =>
            inner.ListDeadLettersAsync(function, limit, ct);
        public Task<int> DeleteFinishedBeforeAsync(DateTimeOffset finishedBefore, CancellationToken ct = default) =>
            inner.DeleteFinishedBeforeAsync(finishedBefore, ct);
    }
}
