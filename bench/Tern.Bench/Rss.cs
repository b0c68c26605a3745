namespace Tern.Bench;

public static class Rss
{
    /// <summary>VmRSS of one process, in MB (0 if it is gone).</summary>
    public static double OfPid(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:"));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        catch (IOException) { return 0; }
    }

    /// <summary>Sum of VmRSS over every process in a worker's cgroup (v1 memory controller or v2), in MB. Each daemon
    /// keeps its workers under tern/{daemon id}/.</summary>
    public static double OfCgroup(string workerId)
    {
        var procs = new[] { "/sys/fs/cgroup/memory/tern", "/sys/fs/cgroup/tern" }
            .Where(Directory.Exists)
            .SelectMany(parent => Directory.EnumerateDirectories(parent))
            .Select(daemon => Path.Combine(daemon, workerId, "cgroup.procs"))
            .FirstOrDefault(File.Exists);
        return procs is null ? double.NaN : File.ReadAllLines(procs).Where(l => l.Length > 0).Sum(l => OfPid(int.Parse(l)));
    }
}
