using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Tern.Api.Auth.SigV4;

namespace Tern.Api.Tests.Auth;

/// <summary>The SigV4 check against signatures made by others: AWS's published test vector (get-vanilla-query-order-key-case
/// of the SigV4 test suite), and a Lambda Invoke request signed by botocore 1.43 (SigV4Auth with a fixed clock).</summary>
public sealed class SigV4VerifierTests
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private static readonly DateTimeOffset SignedAt = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    private static HttpRequest Request(string method, string host, string rawTarget, string authorization, byte[]? body = null,
        string? contentType = null)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = method;
        var question = rawTarget.IndexOf('?');
        request.Path = Uri.UnescapeDataString(question < 0 ? rawTarget : rawTarget[..question]);
        if (question >= 0) request.QueryString = new QueryString(rawTarget[question..]);
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        request.Headers.Host = host;
        request.Headers["X-Amz-Date"] = "20150830T123600Z";
        request.Headers.Authorization = authorization;
        if (contentType is not null) request.ContentType = contentType;
        request.Body = new MemoryStream(body ?? []);
        request.ContentLength = body?.Length ?? 0;
        return request;
    }

    private static HttpRequest AwsVector() => Request("GET", "example.amazonaws.com", "/?Param2=value2&Param1=value1",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");

    private static readonly byte[] InvokeBody = Encoding.UTF8.GetBytes("""{"a":1}""");

    private static HttpRequest BotocoreInvoke(byte[] body) => Request("POST", "127.0.0.1:8080", "/2015-03-31/functions/f%3Aprod/invocations?Qualifier=%24LATEST",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=4d39688ff58854d460afff46785d5cd789af0752e77c476ec3b4bbc54f8e7f4f",
        body, "application/json");

    private static async Task<string?> CheckAsync(HttpRequest request, string secret)
    {
        Assert.True(SigV4Authorization.TryParse(request.Headers.Authorization.ToString(), out var auth, out var error), error);
        Assert.Null(SigV4Verifier.CheckHeaders(request, auth, SignedAt.AddMinutes(3)));
        return await SigV4Verifier.CheckSignatureAsync(request, auth, secret, CancellationToken.None);
    }

    [Fact]
    public async Task AwsTestVector_Verifies() => Assert.Null(await CheckAsync(AwsVector(), Secret));

    [Fact]
    public async Task BotocoreSignedInvoke_WithAnEncodedColonAndABody_Verifies_AndLeavesTheBodyReadable()
    {
        var request = BotocoreInvoke(InvokeBody);
        Assert.Null(await CheckAsync(request, Secret));
        using var reader = new StreamReader(request.Body);
        Assert.Equal("""{"a":1}""", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task AChangedBody_OrAnotherSecret_DoesNotVerify()
    {
        Assert.Contains("signature", await CheckAsync(BotocoreInvoke(Encoding.UTF8.GetBytes("""{"a":2}""")), Secret));
        Assert.Contains("signature", await CheckAsync(AwsVector(), Secret + "x"));
    }

    [Fact]
    public void AnOldSignature_IsRefused()
    {
        var request = AwsVector();
        Assert.True(SigV4Authorization.TryParse(request.Headers.Authorization.ToString(), out var auth, out _));
        Assert.Contains("expired", SigV4Verifier.CheckHeaders(request, auth, SignedAt.AddMinutes(16)));
        Assert.Null(SigV4Verifier.CheckHeaders(request, auth, SignedAt.AddMinutes(-14)));
    }

    [Theory]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/lambda, SignedHeaders=host;x-amz-date, Signature=" + "ab")]
    [InlineData("AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=XYZ")]
    public void MalformedHeaders_AreRefused(string authorization)
    {
        Assert.False(SigV4Authorization.TryParse(authorization, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void SignedHeadersWithoutHost_AreRefused()
    {
        var request = AwsVector();
        request.Headers.Authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=x-amz-date, Signature=" + new string('a', 64);
        Assert.True(SigV4Authorization.TryParse(request.Headers.Authorization.ToString(), out var auth, out _));
        Assert.Contains("host", SigV4Verifier.CheckHeaders(request, auth, SignedAt));
    }

    [Fact]
    public void TheSecretOfAKey_IsTheHexSha256OfTheKey() =>
        Assert.Equal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            SigV4Verifier.SecretFor(System.Security.Cryptography.SHA256.HashData("hello"u8)));
}
