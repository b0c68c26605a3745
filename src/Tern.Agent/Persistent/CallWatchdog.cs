namespace Tern.Agent.Persistent;

/// <summary>Enforces calls' timeouts with one thread that sleeps until the earliest deadline. Calls of one function
/// share a timeout, so deadlines arrive in order and adding or removing one is O(1). The thread is woken only for a
/// deadline earlier than the one it sleeps until: when the calls it was waiting for end early (the usual case) it
/// keeps sleeping, so a steady stream of calls costs it one wake-up per timeout period, not one per call.</summary>
internal sealed class CallWatchdog
{
    private readonly LinkedList<PersistentCall> _deadlines = new();
    private readonly Action<PersistentCall> _expired;
    private bool _stopped;
    private long _sleepingUntil = long.MaxValue; // under the lock

    public CallWatchdog(Action<PersistentCall> expired)
    {
        _expired = expired;
        AgentThreads.RunBlocking(Run);
    }

    public void Add(PersistentCall call)
    {
        lock (_deadlines)
        {
            var after = _deadlines.Last;
            while (after is not null && after.Value.DeadlineTicks > call.DeadlineTicks) after = after.Previous;
            call.Deadline = after is null ? _deadlines.AddFirst(call) : _deadlines.AddAfter(after, call);
            if (call.DeadlineTicks < _sleepingUntil) Monitor.Pulse(_deadlines); // earlier than the thread will look
        }
    }

    public void Remove(PersistentCall call)
    {
        lock (_deadlines)
        {
            if (call.Deadline?.List is not null) _deadlines.Remove(call.Deadline);
            call.Deadline = null;
        }
    }

    public void Stop()
    {
        lock (_deadlines)
        {
            _stopped = true;
            Monitor.Pulse(_deadlines);
        }
    }

    private void Run()
    {
        while (true)
        {
            PersistentCall? due = null;
            lock (_deadlines)
            {
                while (!_stopped && due is null)
                {
                    var now = Environment.TickCount64;
                    if (_deadlines.First is { } first && first.Value.DeadlineTicks <= now)
                    {
                        _deadlines.RemoveFirst();
                        first.Value.Deadline = null;
                        due = first.Value;
                        break;
                    }
                    // Sleep until the earliest deadline; with none left, until the time already planned (so calls that
                    // arrive meanwhile need no wake-up), and after that until a call comes.
                    var target = _deadlines.First?.Value.DeadlineTicks ?? (_sleepingUntil > now ? _sleepingUntil : long.MaxValue);
                    _sleepingUntil = target;
                    if (target == long.MaxValue) Monitor.Wait(_deadlines);
                    else Monitor.Wait(_deadlines, (int)Math.Min(target - now, int.MaxValue));
                }
                _sleepingUntil = long.MaxValue;
                if (_stopped) return;
            }
            _expired(due!);
        }
    }
}
