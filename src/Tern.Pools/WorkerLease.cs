namespace Tern.Pools;

/// <summary>One call's hold on one slot of a worker. Give it back with <see cref="WorkerPool.Release"/>.</summary>
/// <param name="ColdStart">True only when this call's arrival started the worker it runs on.</param>
public sealed record WorkerLease(PooledWorker Worker, bool ColdStart, TimeSpan Waited);
