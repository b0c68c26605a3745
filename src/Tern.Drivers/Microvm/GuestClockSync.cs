using System.Diagnostics;
using System.Net.Sockets;
using Tern.Agent.Protocol;

namespace Tern.Drivers.Microvm;

/// <summary>Sets a VM's wall clock to the host's once its agent answers, before anything else reaches it. A restored VM
/// would otherwise go on from the moment its snapshot was taken, and a booted one from its launch (the kernel command
/// line's tern.time, a few seconds stale under TCG). The host sends its CLOCK_REALTIME and the agent steps the guest's
/// to it on receipt, so the guest ends up behind by the one-way delay of the channel (well under a millisecond on
/// virtio-serial); <see cref="Result.RoundTripMs"/> bounds it. The guest's CLOCK_MONOTONIC is not touched.</summary>
internal static class GuestClockSync
{
    /// <summary>Right after a restore (or a boot) the guest runs its code paths for the first time, which under TCG means
    /// translating them: the first answer can take a hundred milliseconds, all of it error on the clock. A second message
    /// then finds them warm; more are sent until a round trip is this short (or <see cref="MaxRounds"/>).</summary>
    private const double GoodRoundTripMs = 2;
    private const int MaxRounds = 4;

    /// <param name="StepMs">How far the guest's clock moved in the first step (positive: it was behind).</param>
    /// <param name="RoundTripMs">Send to answer of the last step: an upper bound on how far the guest's clock is off.</param>
    /// <param name="Rounds">How many steps it took.</param>
    public sealed record Result(double StepMs, double RoundTripMs, int Rounds);

    public static async Task<Result> SetAsync(Socket socket, CancellationToken ct)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await using var channel = new AgentChannel(stream);
        var firstStep = double.NaN;
        for (var round = 1; ; round++)
        {
            var (step, roundTrip) = await StepAsync(channel, ct).ConfigureAwait(false);
            if (round == 1) firstStep = step;
            if (roundTrip <= GoodRoundTripMs || round == MaxRounds) return new Result(firstStep, roundTrip, round);
        }
    }

    private static async Task<(double StepMs, double RoundTripMs)> StepAsync(AgentChannel channel, CancellationToken ct)
    {
        var sent = Stopwatch.GetTimestamp();
        await channel.WriteAsync(new ClockMessage
        {
            RequestId = "clock", UnixTimeNs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100,
        }, ct).ConfigureAwait(false);
        var answer = await channel.ReadAsync(ct).ConfigureAwait(false) as RespMessage
            ?? throw new IOException("the agent closed its channel before setting its clock");
        var roundTrip = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
        if (answer.RequestId != "clock") throw new IOException($"the agent answered {answer.RequestId} where the clock's answer was due");
        if (answer.Status != "success")
            throw new IOException($"the guest's agent could not set its clock ({answer.Error?.Code}: {answer.Error?.Message})");
        var step = answer.Output?.ToElement() is { } output && output.TryGetProperty("stepMs", out var s) ? s.GetDouble() : double.NaN;
        return (step, roundTrip);
    }
}
