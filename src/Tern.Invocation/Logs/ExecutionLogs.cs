using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tern.Core.Executions;
using Tern.Core.Invocations;
using Tern.Invocation.Async;
using Tern.Storage.Logs;

namespace Tern.Invocation.Logs;

/// <summary>Handlers' output per execution: <see cref="Record"/> (called by FunctionInvoker when a call ends, sync or
/// async) splits the call's stdout/stderr tails into lines, hands them at once to live subscribers (the SSE follow
/// stream) and queues them for the log store, which a background writer fills off the call path. Lines expire with the
/// execution records (AsyncOptions.RecordTtl, checked every JanitorInterval).</summary>
public sealed partial class ExecutionLogs(ILogStore store, IOptions<AsyncOptions> options, TimeProvider time, ILogger<ExecutionLogs> logger)
    : BackgroundService
{
    /// <summary>At most this much of each stream is kept per execution (the agent sends no more).</summary>
    public const int MaxCharsPerStream = 64 * 1024;

    /// <summary>Executions waiting for the store; past this (the disk far behind) new ones are dropped, not the calls slowed.</summary>
    private const int MaxPending = 4096;

    /// <summary>Lines reach the store at most this long after their call ends (live subscribers get them at once).</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Lines buffered per live subscriber; a reader that falls this far behind loses the oldest.</summary>
    private const int SubscriberBuffer = 1024;

    private readonly Channel<IReadOnlyList<LogLine>> _pending = Channel.CreateBounded<IReadOnlyList<LogLine>>(
        new BoundedChannelOptions(MaxPending) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _lock = new();
    private Subscription[] _subscribers = [];

    public void Record(string function, InvocationResult result)
    {
        // A successful process-mode call's stdout is its result, already in the execution record: logging it again
        // doubled the store writes per call (measured in bench/). Kept when the call failed, where it helps.
        var stdout = result.Status == InvocationStatus.Success ? null : result.StdoutTail;
        if (stdout is null && result.StderrTail is null) return;
        var now = time.GetUtcNow();
        var lines = new List<LogLine>();
        Split(lines, now, function, result.ExecutionId, LogLine.Stderr, result.StderrTail);
        Split(lines, now, function, result.ExecutionId, LogLine.Stdout, stdout);
        if (lines.Count == 0) return;
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            if (subscriber.Function != function) continue;
            foreach (var line in lines) subscriber.Channel.Writer.TryWrite(line);
        }
        if (!_pending.Writer.TryWrite(lines)) LogDropped(result.ExecutionId);
    }

    /// <summary>New lines of <paramref name="function"/> from now on, until the subscription is disposed.</summary>
    public Subscription Subscribe(string function)
    {
        var subscription = new Subscription(this, function);
        lock (_lock) _subscribers = [.. _subscribers, subscription];
        return subscription;
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (_lock) _subscribers = _subscribers.Where(s => s != subscription).ToArray();
        subscription.Channel.Writer.TryComplete();
    }

    public Task<IReadOnlyList<LogLine>> QueryAsync(string function, string? executionId, DateTimeOffset? since, int limit, CancellationToken ct) =>
        store.QueryAsync(function, executionId, since, limit, ct);

    /// <summary>Waits until every line recorded so far is in the store (for tests and shutdown).</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        while (_pending.Reader.Count > 0 || Volatile.Read(ref _writing) != 0) await Task.Delay(10, ct).ConfigureAwait(false);
    }

    private int _writing;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(WriteLoopAsync(stoppingToken), ExpireLoopAsync(stoppingToken));

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        try
        {
            while (await _pending.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                Volatile.Write(ref _writing, 1);
                var batch = new List<LogLine>();
                while (batch.Count < 10_000 && _pending.Reader.TryRead(out var lines)) batch.AddRange(lines);
                try
                {
                    await store.AppendAsync(batch, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    LogWriteFailed(e);
                }
                finally
                {
                    Volatile.Write(ref _writing, 0);
                }
                // Let lines gather: under load one store write (and one wake-up) per interval, not one per call.
                await Task.Delay(FlushInterval, time, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task ExpireLoopAsync(CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(options.Value.JanitorInterval, time);
            do
            {
                try
                {
                    await store.DeleteBeforeAsync(time.GetUtcNow() - options.Value.RecordTtl, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogExpireFailed(e);
                }
            }
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
        }
        catch (OperationCanceledException) { }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Write what is queued before stopping (bounded by the host's shutdown timeout).
        try
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Appends the lines of <paramref name="text"/> (at most its last MaxCharsPerStream characters); a final
    /// line without a newline counts, an empty last piece does not.</summary>
    internal static void Split(List<LogLine> into, DateTimeOffset time, string function, string executionId, string stream, string? text)
    {
        if (string.IsNullOrEmpty(text)) return;
        if (text.Length > MaxCharsPerStream) text = text[^MaxCharsPerStream..];
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            var line = end < 0 ? text[start..] : text[start..end];
            into.Add(new LogLine(time, function, executionId, stream, line.TrimEnd('\r')));
            if (end < 0) break;
            start = end + 1;
        }
    }

    /// <summary>A live reader of one function's new lines. Dispose to stop.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly ExecutionLogs _owner;

        internal Subscription(ExecutionLogs owner, string function)
        {
            _owner = owner;
            Function = function;
        }

        public string Function { get; }

        internal Channel<LogLine> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<LogLine>(
            new BoundedChannelOptions(SubscriberBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest });

        public ChannelReader<LogLine> Reader => Channel.Reader;

        public void Dispose() => _owner.Unsubscribe(this);
    }

    [LoggerMessage(EventId = 430, Level = LogLevel.Warning, Message = "log lines of execution {ExecutionId} dropped: the log store is behind")]
    private partial void LogDropped(string executionId);

    [LoggerMessage(EventId = 431, Level = LogLevel.Error, Message = "writing log lines failed")]
    private partial void LogWriteFailed(Exception e);

    [LoggerMessage(EventId = 432, Level = LogLevel.Error, Message = "expiring log lines failed")]
    private partial void LogExpireFailed(Exception e);
}
