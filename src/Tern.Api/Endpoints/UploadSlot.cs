using Microsoft.AspNetCore.Http;

namespace Tern.Api.Endpoints;

/// <summary>Bounds how many large function uploads are stored at once: a JSON definition carries its code as base64
/// and is held in memory while it is parsed (a 50 MB package is ~200 MB of strings and bytes), so eight at once
/// grew the daemon by hundreds of MB. Small requests pass without a slot; a large one waits up to
/// <see cref="Patience"/> for one, then gets a 503 asking to retry.</summary>
internal sealed class UploadSlot : IAsyncDisposable
{
    public const int Concurrent = 2;
    private const long SmallBytes = 1024 * 1024;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly SemaphoreSlim Slots = new(Concurrent, Concurrent);
    private static readonly UploadSlot None = new(held: false);

    private readonly bool _held;

    private UploadSlot(bool held) => _held = held;

    /// <summary>A slot (or a no-op for a small request); null when none became free in time.</summary>
    public static async Task<UploadSlot?> TakeAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength is < SmallBytes) return None;
        return await Slots.WaitAsync(Patience, ct) ? new UploadSlot(held: true) : null;
    }

    public ValueTask DisposeAsync()
    {
        if (_held) Slots.Release();
        return ValueTask.CompletedTask;
    }
}
