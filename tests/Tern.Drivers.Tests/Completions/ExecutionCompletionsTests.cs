using Tern.Agent.Protocol;
using Tern.Drivers.Completions;

namespace Tern.Drivers.Tests.Completions;

/// <summary>The registry behind POST /v1/internal/executions/{id}:complete: each outcome, and a retry of the same
/// execution getting a fresh token that the earlier attempt's no longer opens.</summary>
public sealed class ExecutionCompletionsTests
{
    private static RespMessage Result(string name) => new() { Status = "success", Output = Tern.Json.RawJson.Parse($"\"{name}\"") };

    [Fact]
    public async Task RightToken_Delivers_WrongOrUnknown_DoNot_AndASecondReportIsAlreadyCompleted()
    {
        var completions = new ExecutionCompletions(TimeProvider.System);
        var (token, result) = completions.Register("exec-1");

        Assert.Equal(CompletionOutcome.UnknownExecution, completions.Complete("exec-2", token, Result("x")));
        Assert.Equal(CompletionOutcome.WrongToken, completions.Complete("exec-1", token + "x", Result("forged")));
        Assert.Equal(CompletionOutcome.WrongToken, completions.Complete("exec-1", "", Result("forged")));
        Assert.False(result.IsCompleted);

        Assert.Equal(CompletionOutcome.Accepted, completions.Complete("exec-1", token, Result("real")));
        var delivered = await result;
        Assert.Equal("exec-1", delivered.RequestId);
        Assert.Equal("\"real\"", delivered.Output!.Value.ToString());
        Assert.Equal(CompletionOutcome.AlreadyCompleted, completions.Complete("exec-1", token, Result("again")));
    }

    [Fact]
    public async Task AnAbandonedCall_RefusesItsLateReport_AndARetryGetsAFreshToken()
    {
        var completions = new ExecutionCompletions(TimeProvider.System);
        var (first, firstResult) = completions.Register("exec-1");
        completions.Abandon("exec-1", firstResult);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstResult);
        Assert.Equal(CompletionOutcome.AlreadyCompleted, completions.Complete("exec-1", first, Result("late")));

        var (second, secondResult) = completions.Register("exec-1");
        Assert.NotEqual(first, second);
        Assert.True(second.Length >= 43, second); // 256 bits, base64url
        Assert.Equal(CompletionOutcome.WrongToken, completions.Complete("exec-1", first, Result("stale")));
        completions.Abandon("exec-1", firstResult); // the earlier attempt's abandon leaves the retry waiting
        Assert.Equal(CompletionOutcome.Accepted, completions.Complete("exec-1", second, Result("retry")));
        Assert.Equal("\"retry\"", (await secondResult).Output!.Value.ToString());
    }
}
