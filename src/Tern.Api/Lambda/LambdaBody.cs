using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Tern.Api.Endpoints;

namespace Tern.Api.Lambda;

/// <summary>Reads a Lambda request's JSON body within a size limit.</summary>
internal static class LambdaBody
{
    /// <summary>Small requests (configuration, versions, aliases).</summary>
    public const long SmallLimit = 256 * 1024;

    /// <summary>A 50 MB zip as base64 plus its JSON envelope, as /v1's JSON definitions allow.</summary>
    public const long CodeLimit = Tern.Core.Functions.FunctionLimits.MaxCodeBytes / 3 * 4 + 1024 * 1024;

    /// <summary>The body as <typeparamref name="T"/>; an empty body is <paramref name="empty"/> (null: refused).</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request, long limit, JsonTypeInfo<T> type, Func<T>? empty, CancellationToken ct)
        where T : class
    {
        var body = await RequestBody.ReadAsync(request, limit, ct)
            ?? throw new LambdaException(LambdaErrorType.RequestTooLarge, $"the request body may be at most {limit} bytes");
        if (body.Length == 0)
            return empty?.Invoke() ?? throw new LambdaException(LambdaErrorType.InvalidRequestContent, "the request body is empty; a JSON object was expected");
        return JsonSerializer.Deserialize(body, type) ?? throw new JsonException("a JSON object was expected, not null");
    }
}
