using System.Net.Sockets;
using Tern.Agent;
using Tern.Agent.OneShot;
using Tern.Agent.Persistent;
using Tern.Agent.Protocol;
using Tern.Agent.Transport;

// The agent: started inside a worker, reaches the host over the transport TERN_AGENT_TRANSPORT names (by default it
// dials the Unix socket TERN_AGENT_SOCKET), and serves Init/Exec/Ping/Stop. With TERN_AGENT_ONESHOT set (a Kubernetes
// Job's pod) it runs the one call that directory holds, reports the result over HTTP and exits.
if (Environment.GetEnvironmentVariable(OneShotCall.DirectoryVariable) is { Length: > 0 } oneShot)
{
    if (!PrivilegeDrop.ApplyFromEnvironment(out var error))
    {
        Console.Error.WriteLine($"tern-agent: {error}");
        return 70;
    }
    return OneShotRun.Run(oneShot);
}
if (!AgentTransport.TryFromEnvironment(out var transport, out var transportError))
{
    Console.Error.WriteLine($"tern-agent: {transportError}");
    return 64; // EX_USAGE
}
if (!PrivilegeDrop.ApplyFromEnvironment(out var dropError))
{
    Console.Error.WriteLine($"tern-agent: {dropError}");
    return 70;
}

if (transport is UnixDialTransport unix) HandoffChannel.Configure(unix.Path); // the pipes can go to the host
AgentThreads.Prewarm();
PythonZygote.StartIfTemplate(); // warms up while the host decides what this worker will run
WasmZygote.StartIfTemplate();
TemplatePrewarm.RunIfTemplate();

Stream stream;
try
{
    stream = transport.Open();
}
catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"tern-agent: cannot reach the host over {transport}: {e.Message}");
    return 69; // EX_UNAVAILABLE
}

using var channel = new AgentChannel(stream);
new AgentLoop(channel).Run();
return 0;
