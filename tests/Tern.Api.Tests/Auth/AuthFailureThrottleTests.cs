using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tern.Api.Auth;

namespace Tern.Api.Tests.Auth;

public sealed class AuthFailureThrottleTests
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");

    [Fact]
    public void AfterTheBurst_TheClientWaits_OneTryPerRefill_AndOtherClientsAreUntouched()
    {
        var time = new FakeTimeProvider();
        var throttle = new AuthFailureThrottle(time);
        for (var i = 0; i < AuthFailureThrottle.Burst; i++)
        {
            Assert.True(throttle.IsAllowed(Client, out _), $"failure {i} should still be allowed");
            throttle.RecordFailure(Client);
        }
        Assert.False(throttle.IsAllowed(Client, out var wait));
        Assert.Equal(AuthFailureThrottle.RefillEvery, wait);
        Assert.True(throttle.IsAllowed(IPAddress.Parse("203.0.113.8"), out _));

        time.Advance(AuthFailureThrottle.RefillEvery);
        Assert.True(throttle.IsAllowed(Client, out _));
        throttle.RecordFailure(Client);
        Assert.False(throttle.IsAllowed(Client, out _));
    }

    [Fact]
    public void IPv6_IsThrottledByItsSlash64()
    {
        var throttle = new AuthFailureThrottle(new FakeTimeProvider());
        for (var i = 0; i < AuthFailureThrottle.Burst; i++) throttle.RecordFailure(IPAddress.Parse($"2001:db8:1:2::{i + 1:x}"));
        Assert.False(throttle.IsAllowed(IPAddress.Parse("2001:db8:1:2:ffff::1"), out _));
        Assert.True(throttle.IsAllowed(IPAddress.Parse("2001:db8:1:3::1"), out _));
    }
}

/// <summary>Against a real daemon: its own fixture, because the throttled client (loopback) is every test's client.</summary>
public sealed class AuthFailureThrottleDaemonTests(AuthDaemonFixture daemon) : IClassFixture<AuthDaemonFixture>
{
    [Fact]
    public async Task ThreeHundredWrongKeys_AreMostly429_BeforeAnyKeyIsLookedAt()
    {
        var statuses = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/functions");
            request.Headers.Add("X-API-Key", $"tern_{i:D8}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
            using var response = await daemon.Client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal("auth-failures", response.Headers.GetValues("X-Tern-Reject-Reason").Single());
                Assert.Equal(429, (int?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]);
            }
            return response.StatusCode;
        }));
        var unauthorized = statuses.Count(s => s == HttpStatusCode.Unauthorized);
        var throttled = statuses.Count(s => s == HttpStatusCode.TooManyRequests);
        Assert.Equal(300, unauthorized + throttled);
        // The burst, plus a few that raced past the check before the failures were recorded, plus refills.
        Assert.InRange(unauthorized, AuthFailureThrottle.Burst, AuthFailureThrottle.Burst + 60);

        // Even the right key waits out the penalty from this address: empty the bucket again (the burst above may have
        // taken longer than a refill on a loaded machine), then, within the same refill period, try the right key.
        System.Diagnostics.Stopwatch sinceThrottled;
        while (true)
        {
            using var wrong = new HttpRequestMessage(HttpMethod.Get, "/v1/functions");
            wrong.Headers.Add("X-API-Key", "tern_" + new string('B', 43));
            using var response = await daemon.Client.SendAsync(wrong);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) { sinceThrottled = System.Diagnostics.Stopwatch.StartNew(); break; }
        }
        using var blocked = new HttpRequestMessage(HttpMethod.Get, "/v1/functions");
        blocked.Headers.Add("X-API-Key", daemon.BootstrapKey!);
        using (var response = await daemon.Client.SendAsync(blocked))
            if (sinceThrottled.Elapsed < AuthFailureThrottle.RefillEvery) Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        // ...and gets in once a try has trickled back.
        await Task.Delay(AuthFailureThrottle.RefillEvery + TimeSpan.FromMilliseconds(200));
        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/v1/functions");
        allowed.Headers.Add("X-API-Key", daemon.BootstrapKey!);
        using (var response = await daemon.Client.SendAsync(allowed)) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
