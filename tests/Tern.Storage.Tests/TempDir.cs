namespace Tern.Storage.Tests;

/// <summary>A scratch directory under the system temp dir, removed on Dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tern-test-" + Guid.NewGuid());

    public TempDir() => Directory.CreateDirectory(Path);

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { } // best effort: a leftover temp dir must not fail a test
        catch (UnauthorizedAccessException) { }
    }
}
