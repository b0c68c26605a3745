using System.Reflection;

namespace Tern.Testing;

/// <summary>Paths inside the repository, found from the build's RepoRoot rather than guessed from the working directory.</summary>
public static class RepoPaths
{
    public static string Root { get; } = typeof(RepoPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepoRoot").Value!;

    public static string Examples => Path.Combine(Root, "artifacts", "examples");
}
