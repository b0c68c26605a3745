using Tern.Agent.Protocol;

namespace Tern.Agent;

/// <summary>Sends call answers to the host, from whichever thread finished the call. An answer too big for a frame is
/// sent again without its log tails (they must not turn a good answer into an error), and failing that as
/// OutputTooLarge. If the host has gone, the answer is dropped: the main loop sees the end and exits.</summary>
internal sealed class AnswerWriter(AgentChannel channel)
{
    public void Send(RespMessage resp)
    {
        try
        {
            try
            {
                channel.Write(resp);
                return;
            }
            catch (FrameTooLargeException) when (resp.StdoutTail is not null || resp.StderrTail is not null)
            {
                resp.StdoutTail = resp.StderrTail = null;
            }
            try
            {
                channel.Write(resp);
            }
            catch (FrameTooLargeException e)
            {
                channel.Write(new RespMessage
                {
                    RequestId = resp.RequestId, Status = "error", DurationMs = resp.DurationMs,
                    Error = new AgentError { Code = "OutputTooLarge", Message = e.Message },
                });
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
    }
}
