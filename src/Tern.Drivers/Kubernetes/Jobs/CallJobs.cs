using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Tern.Agent.Protocol;
using Tern.Core.Invocations;
using Tern.Drivers.Completions;

namespace Tern.Drivers.Kubernetes.Jobs;

/// <summary>Runs one call as one Kubernetes Job: registers the call with a fresh token, creates its Job and the Secret
/// its pod mounts (the call and the token, owned by the Job), and waits for whichever comes first: the result the pod POSTs to the control plane, or the
/// pod watch saying the pod ended without one. Whatever happened, the Job (with its pod) and the Secret are deleted.</summary>
internal sealed partial class CallJobs(IKubernetes client, string ns, JobPods pods, ExecutionCompletions completions, KubernetesOptions options,
    ILogger logger)
{
    /// <summary>The call's answer, with Exec's RequestId. Cancelling (the host gave up: timeout, worker killed)
    /// deletes the Job and throws.</summary>
    public async Task<RespMessage> RunAsync(WorkerSpec spec, string image, string configMap, List<V1KeyToPath> items, InitMessage init,
        ExecMessage exec, CancellationToken ct)
    {
        var name = JobManifests.JobName(exec.RequestId);
        var call = JobManifests.CallBytes(new OneShotCall { Init = init, Exec = exec });
        if (call.Length > JobManifests.MaxCallBytes)
        {
            return new RespMessage
            {
                RequestId = exec.RequestId, Status = "error",
                Error = new AgentError
                {
                    Code = InvocationError.PayloadTooLarge,
                    Message = $"the call is {call.Length} bytes with its environment, over the {JobManifests.MaxCallBytes} the kubernetes job style " +
                        "can pass in a Secret (Kubernetes' 1 MiB limit); the warm style (kubernetes: {style: warm}) takes events up to the daemon's limit",
                },
            };
        }
        var (token, reported) = completions.Register(exec.RequestId);
        var ended = pods.Track(name);
        try
        {
            await pods.Listed.WaitAsync(ct).ConfigureAwait(false);
            var completeUrl = JobManifests.CompleteUrl(options.ControlPlaneUrl!, exec.RequestId);
            var job = JobManifests.Job(name, spec, image, configMap, items, completeUrl, exec.TimeoutMs, options);
            // The Job first, so the Secret can name it as its owner; its pod waits for the Secret volume meanwhile.
            var created = await client.BatchV1.CreateNamespacedJobAsync(job, ns, cancellationToken: ct).ConfigureAwait(false);
            var secret = JobManifests.Secret(name, created.Metadata.Uid, call, token);
            await client.CoreV1.CreateNamespacedSecretAsync(secret, ns, cancellationToken: ct).ConfigureAwait(false);
            LogJobCreated(name, spec.FunctionName, exec.RequestId);
            await Task.WhenAny(reported, ended).WaitAsync(ct).ConfigureAwait(false);
            if (reported.IsCompletedSuccessfully) return reported.Result;
            var end = ended.Result;
            return new RespMessage { RequestId = exec.RequestId, Status = "error", Error = new AgentError { Code = end.Code, Message = end.Message } };
        }
        catch (Exception e) when (KubernetesReachability.IsApiFailure(e) && !ct.IsCancellationRequested)
        {
            return new RespMessage
            {
                RequestId = exec.RequestId, Status = "error",
                Error = new AgentError { Code = InvocationError.WorkerCrashed, Message = $"could not create the Secret or Job {name}: {Describe(e)}" },
            };
        }
        finally
        {
            completions.Abandon(exec.RequestId, reported);
            pods.Untrack(name);
            await RemoveAsync(name).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the Job (its pod with it, in the background) and the Secret; absent ones are fine.</summary>
    private async Task RemoveAsync(string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await IgnoreNotFoundAsync(() => client.BatchV1.DeleteNamespacedJobAsync(name, ns, propagationPolicy: "Background",
                cancellationToken: timeout.Token)).ConfigureAwait(false);
            await IgnoreNotFoundAsync(() => client.CoreV1.DeleteNamespacedSecretAsync(name, ns, cancellationToken: timeout.Token)).ConfigureAwait(false);
        }
        catch (Exception e) when (KubernetesReachability.IsApiFailure(e) || e is OperationCanceledException)
        {
            LogRemoveFailed(name, e.Message);
        }
    }

    private static async Task IgnoreNotFoundAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    private static string Describe(Exception e) =>
        e is HttpOperationException http ? $"{(int)http.Response.StatusCode} {http.Response.Content}".Trim() : e.Message;

    [LoggerMessage(EventId = 146, Level = LogLevel.Debug, Message = "created Job {Job} for a call of {Function} ({ExecutionId})")]
    private partial void LogJobCreated(string job, string function, string executionId);

    [LoggerMessage(EventId = 147, Level = LogLevel.Warning, Message = "could not delete Job {Job} or its Secret: {Reason}")]
    private partial void LogRemoveFailed(string job, string reason);
}
