using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Tern.Agent.Protocol;

namespace Tern.Agent.OneShot;

/// <summary>One-shot mode (a Kubernetes Job's pod, docs/kubernetes.md): reads the call from the mounted Secret, runs it
/// once through the same <see cref="AgentLoop"/> every worker uses (over a Unix socket in /tmp, this process playing
/// the host), POSTs the answer to the control plane with the call's token, and exits: 0 once the control plane has
/// the result, 1 when it could not be delivered (the pod then fails, which the daemon's pod watch reports).</summary>
internal static class OneShotRun
{
    private static readonly TimeSpan[] PostRetries = [TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    public static int Run(string directory)
    {
        OneShotCall call;
        string token;
        try
        {
            call = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(directory, OneShotCall.FileName)), AgentJsonContext.Default.OneShotCall)
                ?? throw new JsonException("the call is null");
            token = File.ReadAllText(Path.Combine(directory, OneShotCall.TokenFileName)).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            Console.Error.WriteLine($"tern-agent: cannot read the one-shot call in {directory}: {e.Message}");
            return 66; // EX_NOINPUT
        }
        var url = Environment.GetEnvironmentVariable(OneShotCall.CompleteUrlVariable);
        if (string.IsNullOrEmpty(url) || !Uri.TryCreate(url, UriKind.Absolute, out var target))
        {
            Console.Error.WriteLine($"tern-agent: one-shot mode needs {OneShotCall.CompleteUrlVariable}, the URL to report the result to");
            return 64;
        }
        var result = Execute(call);
        return Deliver(target, token, result);
    }

    /// <summary>Init, then the call, as a host would send them; an Init failure is the call's answer.</summary>
    private static RespMessage Execute(OneShotCall call)
    {
        var path = Path.Combine(Path.GetTempPath(), $"tern-oneshot-{Environment.ProcessId}.sock");
        if (File.Exists(path)) File.Delete(path);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var hostSocket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        hostSocket.Connect(new UnixDomainSocketEndPoint(path));
        var agentSocket = listener.Accept();
        File.Delete(path);

        var agent = new Thread(() =>
        {
            using var channel = new AgentChannel(new NetworkStream(agentSocket, ownsSocket: true));
            new AgentLoop(channel).Run();
        }) { Name = "tern-agent-loop" };
        agent.Start();
        using var host = new AgentChannel(new NetworkStream(hostSocket, ownsSocket: true), call.Init.MaxMessageBytes);
        host.Write(call.Init);
        var answer = ReadAnswer(host, "init");
        if (answer.Status == "success")
        {
            host.Write(call.Exec);
            answer = ReadAnswer(host, call.Exec.RequestId);
        }
        answer.RequestId = call.Exec.RequestId;
        host.Write(new StopMessage());
        agent.Join(TimeSpan.FromSeconds(5));
        return answer;
    }

    private static RespMessage ReadAnswer(AgentChannel host, string requestId)
    {
        while (host.Read() is { } message)
            if (message is RespMessage resp && resp.RequestId == requestId) return resp;
        return new RespMessage
        {
            RequestId = requestId, Status = "error",
            Error = new AgentError { Code = "WorkerCrashed", Message = "the agent ended before it answered" },
        };
    }

    /// <summary>POSTs the answer; retries while the control plane cannot be reached or answers 5xx (it may be restarting).</summary>
    private static int Deliver(Uri target, string token, RespMessage result)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var body = JsonSerializer.SerializeToUtf8Bytes(result, AgentJsonContext.Default.RespMessage);
        for (var attempt = 0; ; attempt++)
        {
            string failure;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = http.Send(request);
                if (response.IsSuccessStatusCode) return 0;
                failure = $"{(int)response.StatusCode} {new StreamReader(response.Content.ReadAsStream()).ReadToEnd()}";
                if ((int)response.StatusCode < 500 && response.StatusCode != HttpStatusCode.TooManyRequests)
                {
                    Console.Error.WriteLine($"tern-agent: the control plane refused the result: {failure}");
                    return 1;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                failure = e.Message;
            }
            if (attempt >= PostRetries.Length)
            {
                Console.Error.WriteLine($"tern-agent: could not report the result to {target}: {failure}");
                return 1;
            }
            Thread.Sleep(PostRetries[attempt]);
        }
    }
}
