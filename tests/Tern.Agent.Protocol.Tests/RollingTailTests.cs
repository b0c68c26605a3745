using System.Diagnostics;
using System.IO.Pipes;
using System.Text;
using Tern.Agent.Protocol.LineProtocol;

namespace Tern.Agent.Protocol.Tests;

/// <summary>A persistent handler's stderr tail over a real pipe: what a call wrote before its answer is in that call's
/// text once <see cref="RollingTail.CatchUp"/> returns, including bytes a pump has taken off the pipe but not appended.</summary>
public sealed class RollingTailTests
{
    [Fact]
    public async Task LinesWrittenBeforeTheAnswer_AreInTheCallsText_AfterCatchUp()
    {
        using var server = new AnonymousPipeServerStream(PipeDirection.In);
        using var client = new AnonymousPipeClientStream(PipeDirection.Out, server.ClientSafePipeHandle);
        var tail = new RollingTail(64 * 1024);
        tail.TrackPipe((int)server.SafePipeHandle.DangerousGetHandle()); // as a lane does before its pump thread starts
        var pump = Task.Factory.StartNew(() => tail.CopyFrom(server), TaskCreationOptions.LongRunning);

        for (var call = 0; call < 200; call++)
        {
            var mark = tail.Mark;
            var line = Encoding.UTF8.GetBytes($"ran {call}\n");
            client.Write(line); // the handler's log line, then (on another pipe) its answer: the call ends now
            tail.CatchUp(TimeSpan.FromSeconds(5));
            Assert.Equal($"ran {call}\n", tail.TextSince(mark, 1024));
        }
        client.Dispose(); // the handler exits: the pump ends
        await pump.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task CatchUp_WaitsForBytesAPumpHasTakenButNotAppended_AndNoLongerThanThat()
    {
        using var server = new AnonymousPipeServerStream(PipeDirection.In);
        var tail = new RollingTail(1024);
        tail.TrackPipe((int)server.SafePipeHandle.DangerousGetHandle());
        var mark = tail.Mark;

        tail.Taking(); // a pump read bytes off the pipe (the pipe looks empty) and is about to append them
        var appended = Task.Run(async () =>
        {
            await Task.Delay(200);
            tail.Append("last words\n"u8);
        });
        var clock = Stopwatch.StartNew();
        tail.CatchUp(TimeSpan.FromSeconds(5));

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(4));
        Assert.Equal("last words\n", tail.TextSince(mark, 1024));
        await appended;
        clock.Restart();
        tail.CatchUp(TimeSpan.FromSeconds(5)); // nothing pending, nothing taken: at once
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"{clock.Elapsed}");
    }
}
