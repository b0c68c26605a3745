using Tern.Core.Executions;

namespace Tern.Storage.Logs;

/// <summary>Handlers' output lines, kept per execution (as long as execution records: 24 h by default).</summary>
public interface ILogStore
{
    /// <summary>Appends lines (normally one execution's) in one transaction, in list order.</summary>
    Task AppendAsync(IReadOnlyList<LogLine> lines, CancellationToken ct = default);

    /// <summary>The newest <paramref name="limit"/> lines of a function that match the filters, oldest first.</summary>
    Task<IReadOnlyList<LogLine>> QueryAsync(string function, string? executionId, DateTimeOffset? since, int limit, CancellationToken ct = default);

    /// <summary>Removes lines older than <paramref name="before"/>; returns how many.</summary>
    Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken ct = default);
}
