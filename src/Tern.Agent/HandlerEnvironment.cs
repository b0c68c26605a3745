using Tern.Agent.Protocol;
using Tern.Runtimes;

namespace Tern.Agent;

/// <summary>The handler's environment: a fixed base, the runtime's needs, then the function's own variables.
/// Nothing of the agent's environment leaks through.</summary>
internal static class HandlerEnvironment
{
    public static void Fill(IDictionary<string, string?> env, InitMessage init, RuntimeDefinition runtime, ExecMessage exec)
    {
        env.Clear();
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        env["HOME"] = "/tmp";
        env["TMPDIR"] = "/tmp";
        env["LANG"] = "C.UTF-8";
        foreach (var (k, v) in runtime.Environment(init.MemoryMb)) env[k] = v;
        foreach (var (k, v) in init.Env) env[k] = v;
        env["TERN_FUNCTION_NAME"] = init.FunctionName;
        env["TERN_FUNCTION_VERSION"] = init.Version.ToString();
        env["TERN_MEMORY_MB"] = init.MemoryMb.ToString();
        env["TERN_REQUEST_ID"] = exec.RequestId;
        if (exec.TraceId is not null) env["TERN_TRACE_ID"] = exec.TraceId;
    }
}
