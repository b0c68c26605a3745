using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using Tern.Invocation.Callbacks;
using Tern.Testing;

namespace Tern.Invocation.Tests.Callbacks;

/// <summary>X-Callback-Url must not reach loopback, link-local (metadata), private or other internal addresses, after
/// DNS resolution, unless the operator allows the target.</summary>
public sealed class CallbackTargetsTests
{
    private static CallbackTargets Targets(params string[] allow) => new(Options.Create(new CallbackOptions { Allow = [.. allow] }));

    [Theory]
    [InlineData("http://127.0.0.1:8080/x", "loopback")]
    [InlineData("http://localhost/x", "loopback")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "link-local")]
    [InlineData("http://10.1.2.3/", "private")]
    [InlineData("http://172.20.0.1/", "private")]
    [InlineData("http://192.168.1.1/", "private")]
    [InlineData("http://100.64.0.1/", "carrier-grade NAT")]
    [InlineData("http://[::1]/", "loopback")]
    [InlineData("http://[::ffff:127.0.0.1]/", "loopback")]
    [InlineData("http://[fd00:ec2::254]/", "unique local")]
    [InlineData("http://0.0.0.0/", "unspecified")]
    public async Task CheckAsync_InternalTarget_IsRefusedSayingWhy(string url, string why)
    {
        var refusal = await Targets().CheckAsync(url, CancellationToken.None);
        Assert.NotNull(refusal);
        Assert.Contains(why, refusal);
        Assert.Contains(CallbackOptions.AllowVariable, refusal);
    }

    [Theory]
    [InlineData("ftp://example.com/", "http(s)")]
    [InlineData("not a url", "http(s)")]
    [InlineData("http://user:secret@93.184.215.14/", "credentials")]
    [InlineData("http://no-such-host.invalid/", "does not resolve")]
    [InlineData("http://hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh.hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh."
        + "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh.hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh."
        + "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh.invalid/", "not a valid DNS name")]
    public async Task CheckAsync_UnusableUrl_IsRefused(string url, string why) =>
        Assert.Contains(why, await Targets().CheckAsync(url, CancellationToken.None));

    [Fact]
    public async Task CheckAsync_PublicAddress_IsAllowed() =>
        Assert.Null(await Targets().CheckAsync("https://93.184.215.14/hook", CancellationToken.None));

    [Theory]
    [InlineData("127.0.0.1", "http://127.0.0.1:9/x")]
    [InlineData("127.0.0.0/8", "http://127.0.0.5/x")]
    [InlineData("localhost", "http://localhost:9/x")]
    [InlineData("10.0.0.0/8", "http://10.9.8.7/x")]
    public async Task CheckAsync_AllowedByTheOperator_IsAllowed(string allow, string url) =>
        Assert.Null(await Targets(allow).CheckAsync(url, CancellationToken.None));

    [Fact]
    public async Task AllowedAddresses_AtConnectTime_DropInternalOnes()
    {
        Assert.Empty(await Targets().AllowedAddressesAsync("localhost", CancellationToken.None));
        Assert.Empty(await Targets().AllowedAddressesAsync("169.254.169.254", CancellationToken.None));
        Assert.Equal([IPAddress.Loopback], await Targets("127.0.0.1").AllowedAddressesAsync("127.0.0.1", CancellationToken.None));
    }
}

/// <summary>The same through the API of a daemon with no allow-list: a 400 problem, and nothing is queued.</summary>
public sealed class CallbackUrlAgainstRealDaemonTests(DaemonFixture daemon) : IClassFixture<DaemonFixture>
{
    [Theory]
    [InlineData("http://127.0.0.1:1/steal")]
    [InlineData("http://169.254.169.254/latest/meta-data/iam/")]
    [InlineData("http://localhost:8080/v1/functions")]
    public async Task Enqueue_CallbackToAnInternalAddress_Is400WithoutARecord(string url)
    {
        var name = "cb-ssrf-" + Guid.NewGuid().ToString("N")[..8];
        await daemon.CreateOkAsync(name, "python", Encoding.UTF8.GetBytes("print(1)"), "main.py");
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/functions/{name}:enqueue") { Content = new StringContent("{}") };
        request.Headers.Add("X-Callback-Url", url);
        using var response = await daemon.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("TERN_CALLBACK_ALLOW", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("X-Execution-Id"));
    }
}
