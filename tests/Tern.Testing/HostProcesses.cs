namespace Tern.Testing;

/// <summary>Looks at the host's process table, to prove something a sandbox started is gone.</summary>
public static class HostProcesses
{
    /// <summary>Pids of processes that have <paramref name="argument"/> as one of their arguments.</summary>
    public static List<int> WithArgument(string argument)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0').Contains(argument)) found.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }
}
