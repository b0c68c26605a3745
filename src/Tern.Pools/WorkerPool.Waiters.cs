namespace Tern.Pools;

/// <summary>The pool's waiting calls and how a freed slot reaches one (kept apart from the pool's accounting).</summary>
public sealed partial class WorkerPool
{
    /// <summary>A call waiting for a slot. Completed inline by whoever hands it one (see <see cref="Handoffs"/>).</summary>
    private sealed class Waiter(WorkerPool pool, long started, long deadline) : TaskCompletionSource<WorkerLease>(TaskCreationOptions.None)
    {
        public WorkerPool Pool { get; } = pool;
        /// <summary>TimeProvider timestamps.</summary>
        public long Started { get; } = started;
        public long Deadline { get; } = deadline;
        public LinkedListNode<Waiter>? Node { get; set; }
    }

    /// <summary>Slots given out under the lock, completed after it. The first runs its call inline on this thread (it
    /// only sends a frame and awaits); more than one, or a deep chain of them, go through the thread pool so a run of
    /// synchronous failures cannot grow the stack.</summary>
    private struct Handoffs
    {
        [ThreadStatic] private static int _depth;
        private (Waiter Waiter, WorkerLease Lease) _first;
        private List<(Waiter, WorkerLease)>? _more;

        public void Add(Waiter waiter, WorkerLease lease)
        {
            if (_first.Waiter is null) _first = (waiter, lease);
            else (_more ??= []).Add((waiter, lease));
        }

        public readonly void Complete()
        {
            if (_more is not null)
                foreach (var (waiter, lease) in _more)
                    ThreadPool.UnsafeQueueUserWorkItem(static s => s.waiter.TrySetResult(s.lease), (waiter, lease), preferLocal: false);
            if (_first.Waiter is not { } first) return;
            if (_depth >= 2)
            {
                var lease = _first.Lease;
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.first.TrySetResult(s.lease), (first, lease), preferLocal: false);
                return;
            }
            _depth++;
            try { first.TrySetResult(_first.Lease); }
            finally { _depth--; }
        }
    }
}
