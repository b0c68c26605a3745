namespace Tern.Invocation;

/// <summary>What a caller can say about one call besides its event.</summary>
/// <param name="TraceId">X-Trace-Id; generated when absent.</param>
/// <param name="TraceParent">W3C traceparent, passed through.</param>
/// <param name="CallbackUrl">X-Callback-Url (async only): the final record is POSTed there.</param>
/// <param name="IdempotencyKey">Idempotency-Key (already validated): a repeat within 24 h replays the first call.</param>
/// <param name="RecordWhileRunning">Sync only: store the record before the run, not only its outcome, because the
/// caller may learn the execution id before the run ends (X-Timeout-Ms). An Idempotency-Key implies it.</param>
/// <param name="Qualifier">A published version number or alias (name:3, name:prod); null runs $LATEST.</param>
public readonly record struct InvocationOptions(string TraceId, string? TraceParent = null, string? CallbackUrl = null, string? IdempotencyKey = null,
    bool RecordWhileRunning = false, string? Qualifier = null);
