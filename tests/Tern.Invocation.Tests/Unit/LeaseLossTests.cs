using Microsoft.Extensions.Logging.Abstractions;
using Tern.Core.Executions;
using Tern.Invocation.Async;
using Tern.Storage;
using static Microsoft.Extensions.Options.Options;

namespace Tern.Invocation.Tests.Unit;

/// <summary>A daemon sharing a store that stalls past a running call's lease, while another daemon claims the call,
/// stops its own run of it and leaves the outcome to the daemon holding it now. The leases are a FAKE of the store's
/// lease table (Postgres in production; its own tests run it for real): it claims the queued records of the real SQLite
/// execution store and lets the test take a lease away.</summary>
public sealed class LeaseLossTests
{
    [Fact]
    public async Task FakeLeases_ARunningCallWhoseLeaseGoesToAnotherDaemon_IsStoppedHere_AndItsOutcomeNotWritten()
    {
        await using var leased = new LeasedRig();
        var rig = leased.Rig;
        var id = await leased.StartOneCallAsync(TimeSpan.FromMinutes(5)); // on the fake clock: runs until the test is done

        leased.Leases.GiveToAnotherDaemon(id);
        rig.Pools.Time.Advance(TimeSpan.FromSeconds(11)); // past a third of the lease: the next pass renews, and learns
        await rig.WaitForAsync(() => rig.Driver.Stops == 1, "the worker running the lost call to be stopped");

        await Task.Delay(300); // an outcome would be written at once
        var record = await rig.GetAsync(id);
        Assert.Equal(ExecutionStatus.Running, record.Status); // as the other daemon's run left it, not finished here
        Assert.Null(record.Error);
        Assert.Single(rig.Driver.Execs);
    }

    [Fact]
    public async Task FakeLeases_ARunEndingAfterItsLeaseWentToAnotherDaemon_ButBeforeTheRenewalSaidSo_WritesNoOutcome()
    {
        await using var leased = new LeasedRig();
        var rig = leased.Rig;
        var id = await leased.StartOneCallAsync(TimeSpan.FromSeconds(5)); // ends before a third of the lease (the renewal)

        leased.Leases.GiveToAnotherDaemon(id); // this daemon has not renewed yet: it still believes it holds the call
        rig.Pools.Time.Advance(TimeSpan.FromSeconds(6));
        await rig.WaitForAsync(() => leased.Leases.Refused(id), "the run's outcome to be offered and refused");

        var record = await rig.GetAsync(id);
        Assert.Equal(ExecutionStatus.Running, record.Status); // as the other daemon's run left it, not finished here
        Assert.Null(record.FinishedAt);
        Assert.Equal(0, rig.Driver.Stops); // it ended on its own; only its write was refused
    }

    /// <summary>A dispatcher whose work source is a LeasedWorkSource (30 s leases) over <see cref="FakeLeases"/>.</summary>
    private sealed class LeasedRig : IAsyncDisposable
    {
        public LeasedRig() => Rig = new DispatcherRig(source: (store, clock) =>
        {
            Leases = new FakeLeases(store);
            var options = Create(new AsyncOptions { LeaseDuration = TimeSpan.FromSeconds(30), ClaimInterval = TimeSpan.FromMilliseconds(50) });
            return new LeasedWorkSource(Leases, options, clock, NullLogger<LeasedWorkSource>.Instance);
        });

        public DispatcherRig Rig { get; }
        public FakeLeases Leases { get; private set; } = null!;

        /// <summary>Starts the dispatcher and one call that runs <paramref name="execLatency"/> on the fake clock; its id
        /// once it runs here.</summary>
        public async Task<string> StartOneCallAsync(TimeSpan execLatency)
        {
            Rig.Driver.ExecLatency = execLatency;
            var function = await Rig.CreateAsync("leased", f => f with { TimeoutMs = 600_000 });
            await Rig.StartAsync();
            var id = await Rig.InsertQueuedAsync(function);
            await Rig.WaitForAsync(() => Rig.Driver.Execs.Count == 1, "the call to run here");
            return id;
        }

        public ValueTask DisposeAsync() => Rig.DisposeAsync();
    }

    private sealed class FakeLeases(IExecutionStore store) : IExecutionLeases
    {
        private readonly HashSet<string> _claimed = [];
        private readonly HashSet<string> _lost = [];
        private readonly Lock _gate = new();

        private readonly HashSet<string> _refused = [];

        /// <summary>Whether a write of this call was refused because it was lost, as the store's conditional update does.</summary>
        public bool Refused(string executionId)
        {
            lock (_gate) return _refused.Contains(executionId);
        }

        public void GiveToAnotherDaemon(string executionId)
        {
            lock (_gate) _lost.Add(executionId);
        }

        public async Task<IReadOnlyList<ExecutionRecord>> ClaimAsync(string owner, int limit, DateTimeOffset now, DateTimeOffset leaseUntil,
            IReadOnlyCollection<string>? skipFunctions = null, CancellationToken ct = default)
        {
            var unfinished = await store.ListUnfinishedAsync(ct);
            lock (_gate)
                return unfinished.Where(r => r.Async && r.Status == ExecutionStatus.Queued && _claimed.Add(r.ExecutionId)).Take(limit).ToList();
        }

        public Task<IReadOnlyList<string>> RenewAsync(string owner, IReadOnlyList<string> executionIds, DateTimeOffset leaseUntil,
            CancellationToken ct = default)
        {
            lock (_gate) return Task.FromResult<IReadOnlyList<string>>(executionIds.Where(id => !_lost.Contains(id)).ToList());
        }

        public async Task<bool> UpdateIfHeldAsync(string owner, ExecutionRecord record, CancellationToken ct = default)
        {
            lock (_gate)
                if (_lost.Contains(record.ExecutionId))
                {
                    _refused.Add(record.ExecutionId);
                    return false;
                }
            await store.UpdateAsync(record, ct);
            return true;
        }

        public Task<bool> ReleaseAsync(string owner, string executionId, CancellationToken ct = default) => Task.FromResult(true);

        public Task<IReadOnlyDictionary<string, int>> CountQueuedAsync(IReadOnlyCollection<string> functions, CancellationToken ct = default) =>
            Task.FromResult<IReadOnlyDictionary<string, int>>(new Dictionary<string, int>());
    }
}
