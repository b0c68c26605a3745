using Tern.Core.Functions;
using System.CommandLine;
using Tern.Cli.Client;
using Tern.Cli.Packaging;

namespace Tern.Cli.Commands;

/// <summary>The settings options shared by `create` (runtime and code required) and `update` (all optional),
/// and their translation into a request body that carries only what was given.</summary>
internal sealed class FunctionOptions
{
    private readonly Option<string> _runtime = new("--runtime") { Description = "Runtime, e.g. python, node, go, binary", HelpName = "RUNTIME" };
    private readonly Option<string> _code = new("--code") { Description = "Code: a directory (zipped), a .zip, or a single file", HelpName = "PATH" };
    private readonly Option<string> _handler = new("--handler") { Description = "Entry point within the code, e.g. main.py (runtime default if omitted)", HelpName = "HANDLER" };
    private readonly Option<int?> _memory = new("--memory") { Description = "Memory limit in MB", HelpName = "MB" };
    private readonly Option<int?> _vcpus = new("--vcpus") { Description = "CPU limit in whole vCPUs", HelpName = "N" };
    private readonly Option<int?> _timeout = new("--timeout") { Description = "Timeout per invocation in milliseconds", HelpName = "MS" };
    private readonly Option<string[]> _env = new("--env") { Description = "Environment variable (repeatable)", HelpName = "K=V" };
    private readonly Option<string> _mode = new Option<string>("--mode") { Description = "Execution mode" }.AcceptOnlyFromAmong("process", "persistent");
    private readonly Option<int?> _minReplicas = new("--min-replicas") { Description = "Warm workers kept at all times", HelpName = "N" };
    private readonly Option<int?> _maxReplicas = new("--max-replicas") { Description = "Most workers at once", HelpName = "N" };
    private readonly Option<int?> _concurrency = new("--concurrency") { Description = "Calls of this function in flight at once, over all workers", HelpName = "N" };
    private readonly Option<int?> _rateLimit = new("--rate-limit") { Description = "Calls per second this function accepts (0 removes the limit)", HelpName = "N" };
    private readonly Option<int?> _instanceConcurrency = new("--instance-concurrency") { Description = "Calls one worker serves at once (Node and .NET handlers can take more than 1)", HelpName = "N" };
    private readonly Option<int?> _queueSize = new("--queue-size") { Description = "Invocations that may wait for a worker", HelpName = "N" };
    private readonly Option<int?> _maxRetries = new("--max-retries") { Description = "Retries after a platform failure", HelpName = "N" };
    private readonly Option<string> _isolation = new("--isolation") { Description = "Isolation driver name", HelpName = "NAME" };
    private readonly Option<string> _kubernetesStyle = new Option<string>("--kubernetes-style")
        { Description = "With --isolation kubernetes: warm (pods kept warm, the default) or job (a Kubernetes Job per call)" }
        .AcceptOnlyFromAmong(FunctionKubernetes.WarmStyle, FunctionKubernetes.JobStyle);
    private readonly Option<string> _network = new Option<string>("--network") { Description = "none (no network, the default) or egress (outbound Internet, filtered)" }
        .AcceptOnlyFromAmong(FunctionNetwork.NoneMode, FunctionNetwork.EgressMode);
    private readonly Option<string[]> _allow = new("--allow")
    {
        Description = "With --network egress: a refused address egress may still reach, CIDR or address with optional :port (repeatable); replaces the list",
        HelpName = "CIDR[:PORT]",
    };

    public FunctionOptions(bool forCreate)
    {
        _runtime.Required = forCreate;
        _code.Required = forCreate;
        _env.Validators.Add(result =>
        {
            foreach (var pair in result.GetValueOrDefault<string[]>() ?? [])
                if (pair.IndexOf('=', StringComparison.Ordinal) <= 0)
                    result.AddError($"--env expects KEY=VALUE, got '{pair}'");
        });
    }

    public void AddTo(Command command)
    {
        Option[] all = [_runtime, _code, _handler, _memory, _vcpus, _timeout, _env, _mode, _minReplicas, _maxReplicas,
            _concurrency, _instanceConcurrency, _queueSize, _maxRetries, _isolation, _kubernetesStyle, _rateLimit, _network, _allow];
        foreach (var option in all) command.Options.Add(option);
    }

    /// <summary>The request body; reads and packages --code if given (which may fail with a local error).</summary>
    public FunctionSettings ToRequest(ParseResult result, string? name)
    {
        var request = new FunctionSettings
        {
            Name = name,
            Runtime = result.GetValue(_runtime),
            Handler = result.GetValue(_handler),
            MemoryMb = result.GetValue(_memory),
            Vcpus = result.GetValue(_vcpus),
            TimeoutMs = result.GetValue(_timeout),
            Env = ParseEnv(result.GetValue(_env)),
            Mode = result.GetValue(_mode),
            MinReplicas = result.GetValue(_minReplicas),
            MaxReplicas = result.GetValue(_maxReplicas),
            Concurrency = result.GetValue(_concurrency),
            InstanceConcurrency = result.GetValue(_instanceConcurrency),
            QueueSize = result.GetValue(_queueSize),
            MaxRetries = result.GetValue(_maxRetries),
            Isolation = result.GetValue(_isolation),
            RateLimitPerSecond = result.GetValue(_rateLimit),
            Network = ToNetwork(result.GetValue(_network), result.GetValue(_allow)),
            Kubernetes = result.GetValue(_kubernetesStyle) is { } style ? new FunctionKubernetes { Style = style } : null,
        };
        if (result.GetValue(_code) is { } codePath)
        {
            var package = CodePackager.Package(codePath);
            request.Code = Convert.ToBase64String(package.Bytes);
            request.CodeFileName = package.FileName;
        }
        return request;
    }

    /// <summary>True when nothing but the name is set: a PATCH like that would change nothing.</summary>
    public static bool IsEmptyUpdate(FunctionSettings s) =>
        s.Runtime is null && s.Handler is null && s.Code is null && s.CodeFileName is null && s.MemoryMb is null && s.Vcpus is null
        && s.TimeoutMs is null && s.Env is null && s.Mode is null && s.MinReplicas is null && s.MaxReplicas is null
        && s.Concurrency is null && s.InstanceConcurrency is null && s.QueueSize is null && s.MaxRetries is null
        && s.Isolation is null && s.RateLimitPerSecond is null && s.Network is null && s.Kubernetes is null;

    /// <summary>The network is sent whole: --allow alone means egress with that list; --network alone an empty list.
    /// The daemon checks the entries (a bad one is its 400, naming the entry).</summary>
    private static FunctionNetwork? ToNetwork(string? mode, string[]? allow)
    {
        if (mode is null && (allow is null || allow.Length == 0)) return null;
        return new FunctionNetwork { Mode = mode ?? FunctionNetwork.EgressMode, Allow = allow ?? [] };
    }

    /// <summary>Splits at the first '=' so values may contain '='; a later repeat of a key wins.</summary>
    private static Dictionary<string, string>? ParseEnv(string[]? pairs)
    {
        if (pairs is null || pairs.Length == 0) return null;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var split = pair.IndexOf('=', StringComparison.Ordinal);
            env[pair[..split]] = pair[(split + 1)..];
        }
        return env;
    }
}
