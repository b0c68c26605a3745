using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace Tern.Api.Tests.BadInput;

/// <summary>With auth on: every route (but /healthz) answers a missing or bad key with a 401 problem whatever else is
/// wrong with the request, and a valid key's bad input gets the same problems as with auth off.</summary>
public sealed class AuthBadInputTests(AuthBadInputDaemon fixture, ITestOutputHelper output) : IClassFixture<AuthBadInputDaemon>
{
    /// <summary>Below the daemon's failed-authentication burst (20 per client address), so every answer is the 401
    /// itself rather than the 429 that follows a burst.</summary>
    private const int FailuresPerAddress = 15;

    private static readonly IReadOnlyList<(string Name, Action<HttpRequestMessage> Apply)> BadKeys =
    [
        ("no key", _ => { }), ("X-API-Key: garbage", r => r.Headers.TryAddWithoutValidation("X-API-Key", "garbage")),
        ("X-API-Key: empty", r => r.Headers.TryAddWithoutValidation("X-API-Key", "")),
        ("X-API-Key: 10 KB", r => r.Headers.TryAddWithoutValidation("X-API-Key", "tern_" + new string('k', 10_240))),
        ("X-API-Key: control characters", r => r.Headers.TryAddWithoutValidation("X-API-Key", "tern_\u0001\u007f")),
        ("X-API-Key: UTF-8", r => r.Headers.TryAddWithoutValidation("X-API-Key", "tern_cl\u00e9")),
        ("Authorization: Bearer without token", r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer")),
        ("Authorization: Bearer and spaces", r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer    ")),
        ("Authorization: Basic", r => r.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz")),
        ("Authorization: garbage scheme", r => r.Headers.TryAddWithoutValidation("Authorization", "\u0001 tern_x")),
        ("no key, Accept: application/xml", r => r.Headers.TryAddWithoutValidation("Accept", "application/xml")),
    ];

    [Fact]
    public async Task WithoutAValidKey_EveryRouteAnswers401Problem_AndTheLambdaApi403()
    {
        var context = new CaseContext(fixture.Operations, fixture.Values, BadInputSetup.ValidBodies, seed: 21);
        var cases = (from operation in fixture.Operations
                     from key in BadKeys
                     select context.Valid("without a valid key", operation, key.Name, headers: key.Apply)).ToList();
        var outcomes = new List<BadInputReport.Outcome>();
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        // Each chunk comes from its own loopback address (all of 127.0.0.0/8 reaches the daemon), so the failure
        // throttle, which counts per client address, never steps in.
        for (var chunk = 0; chunk * FailuresPerAddress < cases.Count; chunk++)
        {
            using var client = BadInputRunner.CreateClient(fixture.BaseAddress, From(IPAddress.Parse($"127.0.{1 + chunk / 250}.{1 + chunk % 250}")));
            var report = await new BadInputRunner(fixture.BaseAddress, client)
                .RunAsync("without a valid key", cases.Skip(chunk * FailuresPerAddress).Take(FailuresPerAddress).ToList());
            outcomes.AddRange(report.Outcomes);
        }
        var all = new BadInputReport("without a valid key", outcomes, elapsed.Elapsed);
        output.WriteLine(all.Summary);
        Assert.True(all.Violations.Count == 0, fixture.Describe(all));
        // The Lambda API answers as AWS does: a 403 (MissingAuthenticationTokenException, UnrecognizedClientException).
        var not401 = outcomes.Where(o => !o.Case.Route.Contains(" /healthz/", StringComparison.Ordinal)
                                         && o.Status != (o.Case.Route.Contains(" /2015-03-31/", StringComparison.Ordinal) ? 403 : 401))
            .Select(o => $"  {o.Case.Route} [{o.Case.Mutation}] -> {o.Status}").ToList();
        Assert.True(not401.Count == 0, "not a 401:\n" + string.Join('\n', not401));
        await BadInputSetup.AssertStillServingAsync(fixture.Client);
    }

    [Fact]
    public async Task WithAValidKey_BadInputGetsProblemsToo()
    {
        var context = new CaseContext(fixture.Operations, fixture.Values, BadInputSetup.ValidBodies, seed: 22);
        // Not the header mutations that replace the key itself: those are the other test.
        var cases = context.Sample([.. BodyShapeCases.InvalidJson(context), .. BodyFieldCases.WrongTypes(context),
            .. HeaderCases.All(context).Where(c => !c.Mutation.StartsWith("X-API-Key", StringComparison.Ordinal))], 300);
        var report = await new BadInputRunner(fixture.BaseAddress, fixture.Client).RunAsync("with a valid key", cases);
        output.WriteLine(report.Summary);
        Assert.True(report.Violations.Count == 0, fixture.Describe(report));
        Assert.DoesNotContain(report.Outcomes, o => o.Status == 401);
        await BadInputSetup.AssertStillServingAsync(fixture.Client);
    }

    /// <summary>Past the burst of failures from one address, the answer is a 429 problem with Retry-After (never a 5xx
    /// or a bodiless status), and a valid key from another address is not affected.</summary>
    [Fact]
    public async Task AFloodOfBadKeys_Gets429Problems()
    {
        var context = new CaseContext(fixture.Operations, fixture.Values, BadInputSetup.ValidBodies, seed: 23);
        var list = fixture.Operations.First(o => o.Route == "GET /v1/functions");
        var cases = Enumerable.Range(0, 30).Select(i => context.Valid("flood of bad keys", list, $"bad key {i}",
            headers: r => r.Headers.TryAddWithoutValidation("X-API-Key", $"tern_wrong{i}"))).ToList();
        using var client = BadInputRunner.CreateClient(fixture.BaseAddress, From(IPAddress.Parse("127.0.255.1")));
        var report = await new BadInputRunner(fixture.BaseAddress, client, parallelism: 1).RunAsync("flood of bad keys", cases);
        output.WriteLine(report.Summary);
        Assert.True(report.Violations.Count == 0, fixture.Describe(report));
        Assert.All(report.Outcomes, o => Assert.True(o.Status is 401 or 429, $"{o.Case.Mutation} -> {o.Status}"));
        Assert.Contains(report.Outcomes, o => o.Status == 429);
        using var other = await fixture.Client.GetAsync("/v1/functions");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    private static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> From(IPAddress source) => async (context, ct) =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(context.DnsEndPoint, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    };
}
