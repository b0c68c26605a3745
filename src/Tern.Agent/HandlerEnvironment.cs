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

    private static void FillBase(IDictionary<string, string?> env, InitMessage init, RuntimeDefinition runtime, bool persistent)
    {
        env.Clear();
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        env["HOME"] = "/tmp";
        env["TMPDIR"] = "/tmp";
        env["LANG"] = "C.UTF-8";
        foreach (var (k, v) in runtime.Environment(init.MemoryMb)) env[k] = v;
        if (persistent)
        {
            env["_HANDLER"] = init.Handler;
            env["LAMBDA_TASK_ROOT"] = RuntimeCatalog.CodeDir;
            env["AWS_LAMBDA_FUNCTION_NAME"] = init.FunctionName;
            env["AWS_LAMBDA_FUNCTION_VERSION"] = init.Revision.ToString();
            env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = init.MemoryMb.ToString();
        }
        foreach (var (k, v) in init.Env) env[k] = v;
        env["TERN_FUNCTION_NAME"] = init.FunctionName;
        env["TERN_FUNCTION_VERSION"] = init.Revision.ToString();
        env["TERN_MEMORY_MB"] = init.MemoryMb.ToString();
    }
}
