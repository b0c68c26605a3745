using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Tern.Api.Problems;
using Tern.Core.Executions;
using Tern.Core.Functions;
using Tern.Storage;

namespace Tern.Api.Endpoints;

/// <summary>The query of GET /v1/executions, bound by the framework (so the OpenAPI document lists it). A parameter
/// given twice arrives comma-joined: for <c>status</c> that is one more status, for the others a value that does not
/// parse, so a 400 rather than one of the values silently picked.</summary>
internal sealed class ExecutionListQuery
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private static readonly string[] Statuses =
        [ExecutionStatus.Queued, ExecutionStatus.Running, ExecutionStatus.Success, ExecutionStatus.Error, ExecutionStatus.Timeout];

    /// <summary>Only this function's executions.</summary>
    [FromQuery(Name = "function")]
    public string? Function { get; init; }

    /// <summary>Only these statuses: queued, running, success, error, timeout (comma-separated).</summary>
    [FromQuery(Name = "status")]
    public string? Status { get; init; }

    /// <summary>Only executions created at or after this RFC 3339 time.</summary>
    [FromQuery(Name = "since")]
    public string? Since { get; init; }

    /// <summary>At most this many (1 to 1000, default 100). Read as text so a bad value gets a problem naming it.</summary>
    [FromQuery(Name = "limit")]
    public string? Limit { get; init; }

    /// <summary>The nextCursor of the previous page.</summary>
    [FromQuery(Name = "cursor")]
    public string? Cursor { get; init; }

    /// <summary>The store query, or a 400 problem naming the first parameter that is wrong.</summary>
    public bool TryRead(out ExecutionQuery? query, out IResult? problem)
    {
        query = null;
        problem = Check();
        if (problem is not null) return false;
        ExecutionCursor? after = null;
        if (Cursor is not null && !ExecutionCursor.TryDecode(Cursor, out after))
        {
            problem = Bad("cursor", "is not a cursor this daemon gave out (pass a listing's nextCursor as it is)");
            return false;
        }
        query = new ExecutionQuery
        {
            Function = Function, Statuses = Status?.Split(',') ?? [], Limit = ParseLimit() ?? DefaultLimit, After = after,
            Since = Since is null ? null : DateTimeOffset.Parse(Since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        };
        return true;
    }

    private IResult? Check()
    {
        if (Function is not null && !FunctionNames.IsValid(Function))
            return Bad("function", $"'{Shorten(Function)}' is not a function name (^[a-z0-9][a-z0-9_-]{{0,63}}$)");
        if (Status is not null && Status.Split(',').FirstOrDefault(s => !Statuses.Contains(s)) is { } wrong)
            return Bad("status", $"'{Shorten(wrong)}' is not a status: use {string.Join(", ", Statuses)} (several comma-separated)");
        if (Since is not null && !DateTimeOffset.TryParse(Since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            return Bad("since", "must be an RFC 3339 time, for example 2026-01-02T15:04:05Z");
        if (Limit is not null && ParseLimit() is null)
            return Bad("limit", $"must be a whole number from 1 to {MaxLimit}");
        return null;
    }

    private int? ParseLimit() =>
        int.TryParse(Limit, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxLimit ? n : null;

    private static IResult Bad(string parameter, string detail) =>
        ProblemResults.BadRequest("Invalid query", $"{parameter}: {detail}");

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
