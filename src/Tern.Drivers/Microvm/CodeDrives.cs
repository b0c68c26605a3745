using System.Collections.Concurrent;
using Tern.Core.Code;

namespace Tern.Drivers.Microvm;

/// <summary>Read-only ext4 images of functions' code (`mkfs.ext4 -d`), one per code hash, made at the first start and
/// reused by every later VM of that code (and by restores, which need the very drive the snapshot saw). A single-file
/// package becomes a drive holding that one file under its name.</summary>
internal sealed class CodeDrives(string dir, ICodeSource? codeSource)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public async Task<string> GetAsync(CodeRef code, CancellationToken ct)
    {
        var name = code.Hash + (code.FileName is null ? "" : "-" + Convert.ToHexStringLower(System.Text.Encoding.UTF8.GetBytes(code.FileName)));
        var path = Path.Combine(dir, name + ".ext4");
        if (File.Exists(path)) return path;
        var gate = _locks.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (File.Exists(path)) return path;
            var source = codeSource?.LocalPath(code)
                ?? throw new WorkerStartException($"code package {code.Hash} is not stored on this host");
            Directory.CreateDirectory(dir);
            var staging = Path.Combine(dir, name + ".d");
            var tmp = path + ".tmp";
            try
            {
                string content;
                long bytes;
                if (code.FileName is not null)
                {
                    if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                    Directory.CreateDirectory(staging);
                    File.Copy(source, Path.Combine(staging, code.FileName));
                    content = staging;
                    bytes = new FileInfo(source).Length;
                }
                else
                {
                    content = source;
                    bytes = new DirectoryInfo(source).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
                }
                var sizeKb = bytes / 1024 * 5 / 4 + 4 * 1024;
                await HostCommand.CheckAsync(Images.GuestImageBuilder.MkfsPath, ["-q", "-F", "-L", Images.GuestInit.CodeLabel, "-O", "^has_journal",
                    "-E", "root_owner=0:0", "-d", content, tmp, sizeKb + "k"], ct: ct).ConfigureAwait(false);
                File.Move(tmp, path, overwrite: true);
                return path;
            }
            catch (InvalidOperationException e)
            {
                throw new WorkerStartException($"could not make the code drive: {e.Message}", e);
            }
            finally
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                File.Delete(tmp);
            }
        }
        finally
        {
            gate.Release();
        }
    }
}
