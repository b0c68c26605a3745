using Tern.Core.Executions;

namespace Tern.Invocation.Async;

/// <summary>Where the dispatcher's calls come from and how an attempt is handed back. Alone on its store (SQLite) the
/// daemon runs every call it accepts, and on start what the store holds unfinished (<see cref="LocalWorkSource"/>);
/// daemons sharing a store (Postgres) each run the calls they claim, with leases (<see cref="LeasedWorkSource"/>).</summary>
internal interface IAsyncWorkSource
{
    /// <summary>Starts finding work for <paramref name="sink"/>; returns once what must run first (recovery) is queued.</summary>
    Task StartAsync(IAsyncWorkSink sink, CancellationToken ct);

    Task StopAsync(CancellationToken ct);

    /// <summary>A call just committed here (accepted or redriven): true when the dispatcher should queue it now;
    /// false when the source will hand it (to this daemon or another) itself.</summary>
    bool Offer(ExecutionRecord record);

    /// <summary>Whether this daemon still holds the call: may start it, and may write its outcome (false: its lease was
    /// lost to another daemon, which runs it now).</summary>
    bool Holds(ExecutionRecord record);

    /// <summary>Cancelled when this daemon loses the call's lease while running it (it stalled past the lease and
    /// another daemon claimed the call): the attempt here is stopped. Never cancelled where calls cannot be lost.</summary>
    CancellationToken LeaseLost(ExecutionRecord record);

    /// <summary>Stores an attempt's record (running, re-queued for its retry, or finished) if this daemon still holds the
    /// call: false, with nothing written, when another daemon has claimed it meanwhile (this one stalled past its lease).</summary>
    Task<bool> WriteAsync(ExecutionRecord record, CancellationToken ct);

    /// <summary>The attempt failed and its retry is committed (queued, NotBefore): true when the dispatcher should keep
    /// it in its own delayed queue.</summary>
    bool RetryHere(ExecutionRecord next);

    /// <summary>This daemon is done with the call (finished, handed back for a retry, or not started).</summary>
    void Ended(ExecutionRecord record);

    /// <summary>Calls of <paramref name="function"/> waiting to start, as queueSize counts them; <paramref name="local"/>
    /// is how many wait in this daemon's own queue.</summary>
    int Waiting(string function, int local);
}

/// <summary>The dispatcher, as a source sees it.</summary>
internal interface IAsyncWorkSink
{
    /// <summary>Queues calls to run here (recovered or claimed), learning each function's concurrency.</summary>
    Task AddAsync(IReadOnlyList<ExecutionRecord> records, CancellationToken ct);

    /// <summary>Functions with at least their concurrency's worth already waiting here: claim none of theirs for now.</summary>
    IReadOnlyCollection<string> Saturated();

    /// <summary>Whether a call of <paramref name="function"/> claimed now could be queued here below that mark (a
    /// function not seen yet has room).</summary>
    bool HasRoom(string function);
}
