using System.Globalization;
using Tern.Agent.Protocol;
using Tern.Runtimes;

namespace Tern.Agent;

/// <summary>The handler's environment: a fixed base, the runtime's needs, then the function's own variables.
/// Nothing of the agent's environment leaks through.</summary>
internal static class HandlerEnvironment
{
    /// <summary>Process mode: one process per call, so the call's ids are in the environment too.</summary>
    public static void Fill(IDictionary<string, string?> env, InitMessage init, RuntimeDefinition runtime, ExecMessage exec)
    {
        FillBase(env, init, runtime, persistent: false);
        env["TERN_REQUEST_ID"] = exec.RequestId;
        if (exec.TraceId is not null) env["TERN_TRACE_ID"] = exec.TraceId;
        if (exec.TraceParent is not null) env["TRACEPARENT"] = exec.TraceParent; // the OpenTelemetry env carrier name
    }

    /// <summary>Persistent mode: one process for many calls; each call's ids travel in its request line instead.
    /// The Lambda-named variables let unmodified Lambda code that reads them find sensible values.</summary>
    public static void FillPersistent(IDictionary<string, string?> env, InitMessage init, RuntimeDefinition runtime)
    {
        FillBase(env, init, runtime, persistent: true);
        env["TERN_HANDLER"] = init.Handler;
        env["TERN_MODE"] = "persistent";
    }

    /// <summary>Lambda's log group name for a function (the bootstraps' context.log_group_name says the same).</summary>
    public static string LogGroup(string functionName) => "/tern/function/" + functionName;

    /// <summary>Lambda's form: "2026/12/02/[$LATEST]" and an id of this handler process (a new one per process).</summary>
    public static string LogStream(string version, DateTimeOffset now) =>
        now.UtcDateTime.ToString("yyyy'/'MM'/'dd", CultureInfo.InvariantCulture) + "/[" + version + "]" + Guid.NewGuid().ToString("N");

    /// <summary>AWS_EXECUTION_ENV for the runtimes Tern runs through a Lambda-style bootstrap (the bootstraps of Python,
    /// Node and .NET add the language version, as Lambda's identifiers have it). Lambda sets none for its OS-only
    /// runtimes, so executables speaking the line protocol get none either.</summary>
    private static string? ExecutionEnv(string runtime) => runtime switch
    {
        "python" => "AWS_Lambda_python",
        "node" => "AWS_Lambda_nodejs",
        "java" => "AWS_Lambda_java",
        "dotnet" => "AWS_Lambda_dotnet",
        _ => null,
    };

    private static void FillBase(IDictionary<string, string?> env, InitMessage init, RuntimeDefinition runtime, bool persistent)
    {
        env.Clear();
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        env["HOME"] = "/tmp";
        env["TMPDIR"] = "/tmp";
        env["LANG"] = "C.UTF-8";
        env["TZ"] = ":UTC"; // as on Lambda: handlers' local time is UTC whatever the host's zone
        if (init.Region is { Length: > 0 } region)
        {
            env["AWS_REGION"] = region;
            env["AWS_DEFAULT_REGION"] = region;
        }
        foreach (var (k, v) in runtime.Environment(init.MemoryMb)) env[k] = v;
        if (persistent)
        {
            env["_HANDLER"] = init.Handler;
            env["LAMBDA_TASK_ROOT"] = RuntimeCatalog.CodeDir;
            env["AWS_LAMBDA_FUNCTION_NAME"] = init.FunctionName;
            env["AWS_LAMBDA_FUNCTION_VERSION"] = init.Version;
            env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = init.MemoryMb.ToString(CultureInfo.InvariantCulture);
            env["AWS_LAMBDA_LOG_GROUP_NAME"] = LogGroup(init.FunctionName);
            env["AWS_LAMBDA_LOG_STREAM_NAME"] = LogStream(init.Version, DateTimeOffset.UtcNow);
            if (ExecutionEnv(init.Runtime) is { } executionEnv) env["AWS_EXECUTION_ENV"] = executionEnv;
        }
        foreach (var (k, v) in init.Env) env[k] = v;
        env["TERN_FUNCTION_NAME"] = init.FunctionName;
        env["TERN_FUNCTION_VERSION"] = init.Version;
        env["TERN_FUNCTION_REVISION"] = init.Revision.ToString(CultureInfo.InvariantCulture);
        env["TERN_MEMORY_MB"] = init.MemoryMb.ToString(CultureInfo.InvariantCulture);
    }
}
