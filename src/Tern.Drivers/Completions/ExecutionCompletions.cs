using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Tern.Agent.Protocol;

namespace Tern.Drivers.Completions;

/// <summary>The calls waiting for a result over HTTP, by execution id, each with the SHA-256 of its token (the token
/// itself is not kept). A finished call stays known for <see cref="FinishedMemory"/>, so a second report gets 409 rather
/// than 404.</summary>
internal sealed class ExecutionCompletions(TimeProvider time) : IExecutionCompletions
{
    public static readonly TimeSpan FinishedMemory = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, Pending> _calls = new(StringComparer.Ordinal);
    private long _lastSweep;

    private sealed class Pending(byte[] tokenHash)
    {
        public byte[] TokenHash { get; } = tokenHash;
        public TaskCompletionSource<RespMessage> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long FinishedAt { get; set; } = long.MaxValue;
    }

    /// <summary>Registers a call and mints its token (256 random bits, base64url): what the remote side must present.
    /// The task completes with the result it reports; <see cref="Abandon"/> ends the wait without one.</summary>
    public (string Token, Task<RespMessage> Result) Register(string executionId)
    {
        Sweep();
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        var pending = new Pending(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (!_calls.TryAdd(executionId, pending))
        {
            // A retry of the same execution: the earlier attempt is over (its worker answered or was killed).
            _calls[executionId] = pending;
        }
        return (token, pending.Result.Task);
    }

    /// <summary>The call no longer waits (its worker gave up or was killed): a late report is a 409.</summary>
    public void Abandon(string executionId, Task<RespMessage> result)
    {
        if (_calls.TryGetValue(executionId, out var pending) && pending.Result.Task == result && pending.FinishedAt == long.MaxValue)
        {
            pending.FinishedAt = time.GetTimestamp();
            pending.Result.TrySetCanceled();
        }
    }

    public CompletionOutcome Complete(string executionId, string token, RespMessage result)
    {
        if (!_calls.TryGetValue(executionId, out var pending)) return CompletionOutcome.UnknownExecution;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        if (!CryptographicOperations.FixedTimeEquals(presented, pending.TokenHash)) return CompletionOutcome.WrongToken;
        result.RequestId = executionId;
        if (!pending.Result.TrySetResult(result)) return CompletionOutcome.AlreadyCompleted;
        pending.FinishedAt = time.GetTimestamp();
        return CompletionOutcome.Accepted;
    }

    /// <summary>Forgets calls finished longer ago than <see cref="FinishedMemory"/>, at most once a minute.</summary>
    private void Sweep()
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastSweep);
        if (time.GetElapsedTime(last, now) < TimeSpan.FromMinutes(1) || Interlocked.CompareExchange(ref _lastSweep, now, last) != last) return;
        foreach (var (id, pending) in _calls)
            if (pending.FinishedAt != long.MaxValue && time.GetElapsedTime(pending.FinishedAt, now) > FinishedMemory)
                _calls.TryRemove(new(id, pending));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
