using System.Reflection;
using System.Runtime.Loader;

namespace Tern.Bootstrap;

/// <summary>Loads the handler's assembly and its dependencies from /code (via its .deps.json when there is one,
/// else by file name). Framework assemblies always come from the shared framework, so types such as JsonElement
/// are the same on both sides of the call.</summary>
internal sealed class HandlerLoadContext : AssemblyLoadContext
{
    private static readonly HashSet<string> Framework = ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(Path.GetFileNameWithoutExtension)
        .OfType<string>()
        .ToHashSet(StringComparer.OrdinalIgnoreCase);

    private readonly AssemblyDependencyResolver? _resolver;
    private readonly string _directory;

    public HandlerLoadContext(string mainAssemblyPath) : base("tern-handler")
    {
        _directory = Path.GetDirectoryName(mainAssemblyPath)!;
        try
        {
            _resolver = new AssemblyDependencyResolver(mainAssemblyPath);
        }
        catch (InvalidOperationException)
        {
            _resolver = null; // no usable .deps.json: probe by file name
        }
    }

    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name is null || Framework.Contains(name.Name)) return null;
        var path = _resolver?.ResolveAssemblyToPath(name);
        if (path is null)
        {
            var probe = Path.Combine(_directory, name.Name + ".dll");
            path = File.Exists(probe) ? probe : null;
        }
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver?.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
