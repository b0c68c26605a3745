using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Tern.Drivers.Microvm;

/// <summary>VM snapshots on disk: `DIR/FUNCTION/KEY.vmstate` (QEMU's migration stream) and `KEY.json` (what it is).
/// The key hashes everything a restore must match (image, the code drive file, memory, vCPUs, accelerator), so new code
/// or a rebuilt image simply finds no snapshot; saving one removes the function's snapshots of other keys.</summary>
internal sealed class SnapshotStore(string dir)
{
    public string Directory { get; } = dir;

    public static string Key(VmLaunch launch, string backend)
    {
        var drive = launch.CodeDrive is null ? "-" : $"{launch.CodeDrive} {File.GetLastWriteTimeUtc(launch.CodeDrive).Ticks}";
        var text = $"{backend}\n{launch.Image.Runtime}\n{launch.Image.Hash}\n{drive}\n{launch.MemoryMb}\n{launch.Vcpus}\n{launch.Accelerator}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
    }

    /// <summary>The state file of a complete snapshot (its description is written after it), or null.</summary>
    public string? Find(string function, string key)
    {
        var state = StatePath(function, key);
        return File.Exists(state) && File.Exists(InfoPath(function, key)) ? state : null;
    }

    /// <summary>A temporary file to save into; <see cref="Commit"/> makes it the snapshot.</summary>
    public string NewTempPath(string function, string workerId)
    {
        var functionDir = Path.Combine(Directory, function);
        System.IO.Directory.CreateDirectory(functionDir);
        return Path.Combine(functionDir, workerId + ".tmp");
    }

    public WorkerSnapshotInfo Commit(string function, string key, string tempPath, string codeHash, double bootSeconds,
        double saveSeconds, string accelerator)
    {
        var info = new WorkerSnapshotInfo(function, key, codeHash, new FileInfo(tempPath).Length, DateTimeOffset.UtcNow,
            bootSeconds, saveSeconds, accelerator);
        File.Move(tempPath, StatePath(function, key), overwrite: true);
        using (var file = File.Create(InfoPath(function, key)))
        using (var json = new Utf8JsonWriter(file))
        {
            json.WriteStartObject();
            json.WriteString("codeHash", info.CodeHash);
            json.WriteString("createdAt", info.CreatedAt);
            json.WriteNumber("bootSeconds", info.BootSeconds);
            json.WriteNumber("saveSeconds", info.SaveSeconds);
            json.WriteString("accelerator", info.Accelerator);
            json.WriteEndObject();
        }
        foreach (var other in List(function).Where(s => s.Key != key)) Remove(function, other.Key);
        return info;
    }

    public IReadOnlyList<WorkerSnapshotInfo> List(string function)
    {
        var functionDir = Path.Combine(Directory, function);
        if (!System.IO.Directory.Exists(functionDir)) return [];
        var list = new List<WorkerSnapshotInfo>();
        foreach (var infoFile in System.IO.Directory.EnumerateFiles(functionDir, "*.json"))
        {
            var key = Path.GetFileNameWithoutExtension(infoFile);
            var state = StatePath(function, key);
            if (!File.Exists(state)) continue;
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(infoFile));
                var root = doc.RootElement;
                list.Add(new WorkerSnapshotInfo(function, key, root.GetProperty("codeHash").GetString() ?? "",
                    new FileInfo(state).Length, root.GetProperty("createdAt").GetDateTimeOffset(),
                    root.GetProperty("bootSeconds").GetDouble(), root.GetProperty("saveSeconds").GetDouble(),
                    root.GetProperty("accelerator").GetString() ?? ""));
            }
            catch (Exception e) when (e is JsonException or IOException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                // a torn description: not a usable snapshot
            }
        }
        return list;
    }

    public int Delete(string function)
    {
        var functionDir = Path.Combine(Directory, function);
        if (!System.IO.Directory.Exists(functionDir)) return 0;
        var count = List(function).Count;
        System.IO.Directory.Delete(functionDir, recursive: true);
        return count;
    }

    /// <summary>Drops one snapshot (a restore from it failed: it will not be tried again).</summary>
    public void Remove(string function, string key)
    {
        File.Delete(InfoPath(function, key));
        File.Delete(StatePath(function, key));
    }

    private string StatePath(string function, string key) => Path.Combine(Directory, function, key + ".vmstate");
    private string InfoPath(string function, string key) => Path.Combine(Directory, function, key + ".json");
}
