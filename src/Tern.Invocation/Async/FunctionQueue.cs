using Tern.Core.Executions;

namespace Tern.Invocation.Async;

/// <summary>One function's waiting async calls: ready ones in arrival order, retries ordered by when they may run.
/// Touched only under the dispatcher's lock.</summary>
internal sealed class FunctionQueue(string function)
{
    public string Function { get; } = function;
    public Queue<ExecutionRecord> Ready { get; } = new();
    public PriorityQueue<ExecutionRecord, DateTimeOffset> Delayed { get; } = new();
    public int InFlight { get; set; }
    /// <summary>Admissions counted against queueSize but not yet committed to the store.</summary>
    public int Reserved { get; set; }
    /// <summary>The function's concurrency, as of the latest admission.</summary>
    public int Concurrency { get; set; } = 1;

    public int Waiting => Ready.Count + Delayed.Count;

    /// <summary>Moves retries whose time has come to the ready queue.</summary>
    public void Promote(DateTimeOffset now)
    {
        while (Delayed.TryPeek(out var record, out var due) && due <= now)
        {
            Delayed.Dequeue();
            Ready.Enqueue(record);
        }
    }

    public DateTimeOffset? NextDue => Delayed.TryPeek(out _, out var due) ? due : null;
}
