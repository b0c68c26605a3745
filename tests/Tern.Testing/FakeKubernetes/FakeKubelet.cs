using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Tern.Testing.FakeKubernetes;

/// <summary>Runs the fake cluster's pods on this machine: each pod's one container is the REAL Tern agent, started with
/// bubblewrap (the pod's "image" is this host's /usr with the agent and runtime assets the tests were built with),
/// its ConfigMap volume written out and bound read-only where the pod mounts it, its env resolved as the kubelet does
/// (fieldRef status.podIP, $(VAR) references), running as the pod's runAsUser. Pods share the host's network but each
/// gets its own loopback address (127.0.0.x plays the pod IP), so every agent listens on the same port. The pod turns
/// Ready when the agent says it is listening; an agent that exits is restarted (restartPolicy Always) with the restart
/// counted, as a real kubelet reports it; a Job's pod (restartPolicy Never) ends Succeeded or Failed with its exit code
/// and stays until deleted. Secret volumes are written out as ConfigMap ones are. Not enforced here: resource limits, seccomp, the read-only root.</summary>
public sealed partial class FakeKubelet : IDisposable
{
    private readonly FakeClusterState _state;
    private readonly string _agentPath;
    private readonly string _runtimeAssets;
    private readonly string _podsDir;
    private readonly ConcurrentDictionary<string, PodProcess> _running = new();
    private readonly ConcurrentDictionary<string, string> _ips = new();
    private int _nextIp = 1;

    public FakeKubelet(FakeClusterState state, string agentPath, string runtimeAssets, string podsDir)
    {
        _state = state;
        _agentPath = agentPath;
        _runtimeAssets = runtimeAssets;
        _podsDir = podsDir;
        Directory.CreateDirectory(podsDir);
        state.PodCreated = pod => _ = Task.Run(() => RunAsync(pod));
        state.PodDeleted = pod => _ = Task.Run(() => StopAsync(pod));
    }

    /// <summary>How many agent processes are running now.</summary>
    public int RunningAgents => _running.Values.Count(p => !p.Process.HasExited);

    private sealed record PodProcess(Process Process, CancellationTokenSource Stop);

    private async Task RunAsync(V1Pod pod)
    {
        var ns = pod.Metadata.NamespaceProperty;
        var name = pod.Metadata.Name;
        var ip = AllocateIp(name);
        var restarts = 0;
        var stop = new CancellationTokenSource(); // not disposed: a late delete may still cancel it
        var keep = false; // an ended Never pod stays (Succeeded or Failed) until it is deleted
        var dir = Path.Combine(_podsDir, name);
        try
        {
            if (!await SecretsExistAsync(pod)) return;
            var binds = WriteVolumes(pod, dir);
            while (!stop.IsCancellationRequested && _state.Pod(ns, name) is { Metadata.DeletionTimestamp: null })
            {
                var process = Start(pod, ip, binds);
                var entry = new PodProcess(process, stop);
                _running[name] = entry;
                // A delete that came between the check above and this registration found no process to stop.
                if (_state.Pod(ns, name) is not { Metadata.DeletionTimestamp: null }) Kill(process);
                _state.UpdatePod(ns, name, p =>
                {
                    p.Status.Phase = "Running";
                    p.Status.PodIP = ip;
                    p.Status.StartTime ??= DateTime.UtcNow;
                    SetReady(p, false, restarts, running: true);
                });
                // Ready once the agent says it listens (its stderr line), as a readiness gate would. The last lines are
                // kept: a Never pod's container that fails gets them as its termination message (FallbackToLogsOnError).
                var tail = new Queue<string>();
                var attempt = restarts;
                var reading = Task.Run(async () =>
                {
                    string? line;
                    while ((line = await process.StandardError.ReadLineAsync().ConfigureAwait(false)) is not null)
                    {
                        lock (tail)
                        {
                            tail.Enqueue(line);
                            if (tail.Count > 10) tail.Dequeue();
                        }
                        if (line.Contains("listening on", StringComparison.Ordinal)) _state.UpdatePod(ns, name, p => SetReady(p, true, attempt, running: true));
                    }
                });
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                await Task.WhenAny(reading, Task.Delay(1000)).ConfigureAwait(false); // the last lines, unless a child holds stderr
                if (stop.IsCancellationRequested || _state.Pod(ns, name) is not { Metadata.DeletionTimestamp: null }) break;
                if (pod.Spec.RestartPolicy == "Never")
                {
                    string lastLines;
                    lock (tail) lastLines = string.Join('\n', tail);
                    Ended(ns, name, process.ExitCode, lastLines);
                    keep = true;
                    break;
                }
                restarts++;
                var exitCode = process.ExitCode;
                _state.UpdatePod(ns, name, p =>
                {
                    SetReady(p, false, restarts, running: false);
                    p.Status.ContainerStatuses[0].LastState = new V1ContainerState
                    {
                        Terminated = new V1ContainerStateTerminated { ExitCode = exitCode, Reason = exitCode == 0 ? "Completed" : "Error" },
                    };
                });
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            if (_running.TryRemove(name, out var entry)) Kill(entry.Process);
            if (!keep) _state.RemovePod(ns, name);
            _ips.TryRemove(name, out _);
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>As a kubelet retries a Secret volume that is not there yet (a Job's Secret is created after the Job),
    /// waits for each one the pod mounts; false if the pod is deleted first.</summary>
    private async Task<bool> SecretsExistAsync(V1Pod pod)
    {
        var ns = pod.Metadata.NamespaceProperty;
        foreach (var volume in pod.Spec.Volumes?.Where(v => v.Secret is not null) ?? [])
        {
            while (_state.Secret(ns, volume.Secret.SecretName) is null)
            {
                if (_state.Pod(ns, pod.Metadata.Name) is not { Metadata.DeletionTimestamp: null }) return false;
                await Task.WhenAny(_state.Changed, Task.Delay(1000)).ConfigureAwait(false);
            }
        }
        return true;
    }

    /// <summary>restartPolicy Never: the container has exited, and the pod ends with it.</summary>
    private void Ended(string ns, string name, int exitCode, string stderrTail) => _state.UpdatePod(ns, name, p =>
    {
        p.Status.Phase = exitCode == 0 ? "Succeeded" : "Failed";
        p.Status.Conditions = [new V1PodCondition { Type = "Ready", Status = "False" }];
        var container = p.Status.ContainerStatuses[0];
        container.Ready = false;
        container.Started = false;
        container.State = new V1ContainerState
        {
            Terminated = new V1ContainerStateTerminated
            {
                ExitCode = exitCode, Reason = exitCode == 0 ? "Completed" : "Error",
                Message = exitCode != 0 && p.Spec.Containers[0].TerminationMessagePolicy == "FallbackToLogsOnError" ? stderrTail : null,
            },
        };
    });

    private Task StopAsync(V1Pod pod)
    {
        if (_running.TryGetValue(pod.Metadata.Name, out var entry))
        {
            entry.Stop.Cancel();
            Kill(entry.Process);
        }
        return Task.CompletedTask;
    }

    private static void SetReady(V1Pod pod, bool ready, int restarts, bool running)
    {
        pod.Status.Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" }];
        var previous = pod.Status.ContainerStatuses?.FirstOrDefault();
        pod.Status.ContainerStatuses =
        [
            new V1ContainerStatus
            {
                Name = pod.Spec.Containers[0].Name, Image = pod.Spec.Containers[0].Image, ImageID = "", Ready = ready, RestartCount = restarts,
                Started = running, LastState = previous?.LastState,
                State = running ? new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = DateTime.UtcNow } }
                    : new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "CrashLoopBackOff" } },
            },
        ];
    }

    /// <summary>ConfigMap and emptyDir volumes, as host directories and where the container mounts them.</summary>
    private List<(string Host, string Container, bool ReadOnly)> WriteVolumes(V1Pod pod, string dir)
    {
        var binds = new List<(string, string, bool)>();
        var container = pod.Spec.Containers[0];
        foreach (var volume in pod.Spec.Volumes ?? [])
        {
            var host = Path.Combine(dir, volume.Name);
            Directory.CreateDirectory(host);
            File.SetUnixFileMode(host, (UnixFileMode)0b111_101_101);
            if (volume.Secret is { } secretSource)
            {
                var secret = _state.Secret(pod.Metadata.NamespaceProperty, secretSource.SecretName)
                    ?? throw new InvalidOperationException($"pod {pod.Metadata.Name} mounts Secret {secretSource.SecretName}, which does not exist");
                foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
                {
                    var path = Path.Combine(host, key);
                    File.WriteAllBytes(path, value);
                    File.SetUnixFileMode(path, (UnixFileMode)(secretSource.DefaultMode ?? 0b110_100_100));
                }
            }
            else if (volume.ConfigMap is { } source)
            {
                var configMap = _state.ConfigMap(pod.Metadata.NamespaceProperty, source.Name)
                    ?? throw new InvalidOperationException($"pod {pod.Metadata.Name} mounts ConfigMap {source.Name}, which does not exist");
                foreach (var item in source.Items ?? [.. configMap.BinaryData.Keys.Select(k => new V1KeyToPath { Key = k, Path = k })])
                {
                    var path = Path.Combine(host, item.Path);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllBytes(path, configMap.BinaryData[item.Key]);
                    File.SetUnixFileMode(path, (UnixFileMode)(item.Mode ?? source.DefaultMode ?? 0b110_100_100));
                }
                foreach (var sub in Directory.EnumerateDirectories(host, "*", SearchOption.AllDirectories))
                    File.SetUnixFileMode(sub, (UnixFileMode)0b111_101_101);
            }
            else if (volume.EmptyDir is not null)
            {
                File.SetUnixFileMode(host, (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit);
            }
            foreach (var mount in container.VolumeMounts?.Where(m => m.Name == volume.Name) ?? [])
                binds.Add((host, mount.MountPath, mount.ReadOnlyProperty == true));
        }
        return binds;
    }

    private Process Start(V1Pod pod, string ip, List<(string Host, string Container, bool ReadOnly)> binds)
    {
        var container = pod.Spec.Containers[0];
        var uid = pod.Spec.SecurityContext?.RunAsUser ?? 0;
        var gid = pod.Spec.SecurityContext?.RunAsGroup ?? uid;
        var psi = new ProcessStartInfo("bwrap") { RedirectStandardError = true, RedirectStandardOutput = false, UseShellExecute = false };
        string[] args =
        [
            "--unshare-all", "--share-net", "--unshare-user", "--uid", uid.ToString(), "--gid", gid.ToString(),
            "--die-with-parent", "--new-session", "--hostname", pod.Metadata.Name,
            "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--proc", "/proc", "--dev", "/dev", "--dir", "/opt/tern",
            "--ro-bind", _agentPath, container.Command[0],
            "--ro-bind", _runtimeAssets, "/opt/tern/runtimes",
            "--clearenv",
        ];
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        foreach (var (host, path, readOnly) in binds)
            foreach (var arg in new[] { readOnly ? "--ro-bind" : "--bind", host, path }) psi.ArgumentList.Add(arg);
        var env = new Dictionary<string, string> { ["PATH"] = "/usr/local/bin:/usr/bin:/bin", ["HOSTNAME"] = pod.Metadata.Name };
        foreach (var variable in container.Env ?? [])
        {
            var value = variable.ValueFrom?.FieldRef?.FieldPath switch
            {
                "status.podIP" => ip,
                "metadata.name" => pod.Metadata.Name,
                null => Expand(variable.Value ?? "", env),
                var other => throw new NotSupportedException($"the fake kubelet resolves no fieldRef {other}"),
            };
            env[variable.Name] = value;
        }
        foreach (var (key, value) in env)
            foreach (var arg in new[] { "--setenv", key, value }) psi.ArgumentList.Add(arg);
        psi.ArgumentList.Add("--");
        foreach (var arg in container.Command.Concat(container.Args ?? [])) psi.ArgumentList.Add(arg);
        return Process.Start(psi) ?? throw new InvalidOperationException("could not start bwrap");
    }

    /// <summary>$(VAR) names a variable defined earlier in the container's env; $$ escapes; unknown ones stay as written.</summary>
    private static string Expand(string value, Dictionary<string, string> env) =>
        VariableReference().Replace(value, m => m.Value == "$$" ? "$" : env.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);

    [GeneratedRegex(@"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex VariableReference();

    private string AllocateIp(string pod)
    {
        lock (_ips)
        {
            for (var i = 0; i < 250; i++)
            {
                var candidate = $"127.0.0.{2 + (_nextIp++ % 250)}";
                if (!_ips.Values.Contains(candidate))
                {
                    _ips[pod] = candidate;
                    return candidate;
                }
            }
        }
        throw new InvalidOperationException("the fake cluster has no free pod address");
    }

    private static void Kill(Process process)
    {
        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        foreach (var entry in _running.Values)
        {
            entry.Stop.Cancel();
            Kill(entry.Process);
        }
    }
}
