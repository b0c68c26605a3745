using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Tern.Api.Endpoints;

/// <summary>Reads request bodies with an explicit size limit, so an oversize body is a 413, never a buffered gigabyte.</summary>
internal static class RequestBody
{
    /// <summary>Returns null when the body exceeds <paramref name="limit"/> bytes.</summary>
    public static async ValueTask<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        if (request.ContentLength > limit) return null;
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = limit + 1;
        var chunk = request.ContentLength is null ? System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024) : null;
        try
        {
            if (request.ContentLength is long length)
            {
                // The usual case: the size is known, so the body goes straight into an array of that size. A body that
                // ends early is Kestrel's BadHttpRequestException (a 400).
                var exact = length == 0 ? [] : new byte[length];
                await request.Body.ReadExactlyAsync(exact, ct).ConfigureAwait(false);
                return exact;
            }
            using var buffer = new MemoryStream(4096);
            int read;
            while ((read = await request.Body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit) return null;
                buffer.Write(chunk!, 0, read);
            }
            return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            throw Unreadable(e);
        }
        finally
        {
            if (chunk is not null) System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Kestrel reports most broken framing as a BadHttpRequestException (a 400), but some (a chunk size that
    /// overflows) as a plain IOException: the client's fault all the same, so a 400 problem rather than a 500. (A client
    /// that went away surfaces here too; its request is aborted, and nothing is written back to it.)</summary>
    public static BadHttpRequestException Unreadable(IOException e) =>
        new($"the request body cannot be read: {e.Message}", StatusCodes.Status400BadRequest, e);

    /// <summary>Deserializes JSON, throwing JsonException (a 400) for malformed input or a JSON null.</summary>
    public static T ParseJson<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> type) where T : class
    {
        if (body.IsEmpty) throw new JsonException("the request body is empty; a JSON object was expected");
        return JsonSerializer.Deserialize(body, type) ?? throw new JsonException("a JSON object was expected, not null");
    }
}
