using System.Net.Sockets;
using Tern.Agent;
using Tern.Agent.Persistent;
using Tern.Agent.Protocol;

// The agent: started inside a worker, connects back to the host, and serves Init/Exec/Ping/Stop.
var socketPath = Environment.GetEnvironmentVariable("TERN_AGENT_SOCKET") ?? "/run/tern/agent.sock";
if (!PrivilegeDrop.ApplyFromEnvironment(out var dropError))
{
    Console.Error.WriteLine($"tern-agent: {dropError}");
    return 70;
}

AgentThreads.Prewarm();
PythonZygote.StartIfTemplate(); // warms up while the host decides what this worker will run

var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
try
{
    socket.Connect(new UnixDomainSocketEndPoint(socketPath));
}
catch (SocketException e)
{
    Console.Error.WriteLine($"tern-agent: cannot connect to {socketPath}: {e.Message}");
    return 69;
}

using var channel = new AgentChannel(new NetworkStream(socket, ownsSocket: true));
new AgentLoop(channel).Run();
return 0;
