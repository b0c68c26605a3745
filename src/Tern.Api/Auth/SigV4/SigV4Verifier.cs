using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Tern.Api.Auth.SigV4;

/// <summary>Checks an AWS Signature Version 4 request for real: the canonical request rebuilt from what arrived (method,
/// raw path, query, the signed headers, the SHA-256 of the body as received), the string to sign, and the HMAC chain
/// AWS4+secret -> date -> region -> service -> aws4_request, compared in constant time. The secret is the one the
/// daemon can know without storing the API key: see <see cref="SecretFor"/>.</summary>
internal static class SigV4Verifier
{
    /// <summary>How far X-Amz-Date may be from the daemon's clock (AWS allows 15 minutes).</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);

    /// <summary>The most body a signed request may carry (a 50 MB zip as base64 in JSON); it is hashed before any endpoint reads it.</summary>
    public const long MaxBodyBytes = 72L * 1024 * 1024;

    /// <summary>The SigV4 secret access key of an API key: the lowercase hex SHA-256 of the key, which is what Tern stores
    /// (the key itself is stored nowhere). A client computes it from its key: printf %s "$KEY" | sha256sum.</summary>
    public static string SecretFor(byte[] storedKeyHash) => Convert.ToHexStringLower(storedKeyHash);

    /// <summary>Null when the signature holds; otherwise why not (said to the client: it reveals nothing secret).</summary>
    public static string? CheckHeaders(HttpRequest request, SigV4Authorization auth, DateTimeOffset now)
    {
        if (!auth.SignedHeaders.Contains("host")) return "SignedHeaders must include host";
        if (auth.SignedHeaders.Any(h => h.Length == 0 || h != h.ToLowerInvariant())) return "SignedHeaders must be lowercase header names";
        var amzDate = request.Headers["X-Amz-Date"].ToString();
        if (!auth.SignedHeaders.Contains("x-amz-date")) return "SignedHeaders must include x-amz-date";
        if (!DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var signedAt))
            return "X-Amz-Date must be an ISO 8601 basic time such as 20261202T141500Z";
        if (!amzDate.StartsWith(auth.Date, StringComparison.Ordinal)) return "the date of the credential scope is not the date of X-Amz-Date";
        if ((now - signedAt).Duration() > MaxSkew)
            return $"Signature expired: X-Amz-Date {amzDate} is more than {MaxSkew.TotalMinutes:0} minutes from the server's time {now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}";
        return null;
    }

    /// <summary>Hashes the body (buffered so the endpoint can read it again) and checks the signature.</summary>
    public static async Task<string?> CheckSignatureAsync(HttpRequest request, SigV4Authorization auth, string secret, CancellationToken ct)
    {
        var bodyHash = await HashBodyAsync(request, ct);
        var declared = request.Headers["X-Amz-Content-SHA256"].ToString();
        if (declared.Length > 0 && declared != bodyHash)
            return declared == "UNSIGNED-PAYLOAD" ? "unsigned payloads are not accepted; sign the body" : "X-Amz-Content-SHA256 does not match the body";
        var canonical = SigV4Canonical.Request(request, auth, bodyHash);
        var stringToSign = $"{SigV4Authorization.Algorithm}\n{request.Headers["X-Amz-Date"]}\n{auth.Scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secret), auth.Date);
        key = Hmac(key, auth.Region);
        key = Hmac(key, auth.Service);
        key = Hmac(key, "aws4_request");
        var expected = Encoding.ASCII.GetBytes(Hex(Hmac(key, stringToSign)));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(auth.Signature))
            ? null
            : "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.";
    }

    private static async Task<string> HashBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength == 0 || (request.ContentLength is null && !request.Headers.TransferEncoding.Any()))
            return Hex(SHA256.HashData([]));
        if (request.ContentLength > MaxBodyBytes)
            throw new BadHttpRequestException($"a signed request body may be at most {MaxBodyBytes} bytes", StatusCodes.Status413PayloadTooLarge);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxBodyBytes;
        request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: MaxBodyBytes);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer, ct)) > 0) hash.AppendData(buffer, 0, read);
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            throw Endpoints.RequestBody.Unreadable(e);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        request.Body.Position = 0;
        return Hex(hash.GetHashAndReset());
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
