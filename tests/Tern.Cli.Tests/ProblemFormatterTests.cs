using System.Net;
using Tern.Cli.Client;

namespace Tern.Cli.Tests;

public sealed class ProblemFormatterTests
{
    [Fact]
    public void Format_ProblemWithDetail_IsTitleColonDetail()
    {
        Assert.Equal("Function not found: function 'nope' does not exist",
            ProblemFormatter.Format(HttpStatusCode.NotFound, Samples.NotFoundProblem));
    }

    [Fact]
    public void Format_ProblemWithErrors_AppendsFieldMessagesOnTheSameLine()
    {
        const string body = """
            {"title":"Invalid function definition","status":400,"detail":"bad request body",
             "errors":{"runtime":["unknown runtime 'x'"],"memoryMb":["must be at least 128","must be a multiple of 64"]}}
            """;

        Assert.Equal(
            "Invalid function definition: bad request body (runtime: unknown runtime 'x'; memoryMb: must be at least 128; memoryMb: must be a multiple of 64)",
            ProblemFormatter.Format(HttpStatusCode.BadRequest, body));
    }

    [Fact]
    public void Format_DetailThatOnlyRepeatsTheErrors_IsNotShownTwice()
    {
        const string body = """
            {"title":"Invalid function definition","status":400,"detail":"unknown runtime 'x'. memoryMb too low.",
             "errors":{"runtime":["unknown runtime 'x'."],"memoryMb":["memoryMb too low."]}}
            """;

        Assert.Equal("Invalid function definition (runtime: unknown runtime 'x'.; memoryMb: memoryMb too low.)",
            ProblemFormatter.Format(HttpStatusCode.BadRequest, body));
    }

    [Fact]
    public void Format_MultilineDetail_IsJoinedOntoOneLine()
    {
        const string body = """{"title":"Internal error","detail":"first\nsecond\r\nthird"}""";

        Assert.Equal("Internal error: first second third", ProblemFormatter.Format(HttpStatusCode.InternalServerError, body));
    }

    [Fact]
    public void Format_ProblemWithoutTitle_UsesTheReasonPhrase()
    {
        Assert.Equal("Conflict: already there", ProblemFormatter.Format(HttpStatusCode.Conflict, """{"detail":"already there"}"""));
    }

    [Fact]
    public void Format_NonJsonBody_ShowsStatusAndBody()
    {
        Assert.Equal("HTTP 502 Bad Gateway: upstream down", ProblemFormatter.Format(HttpStatusCode.BadGateway, "upstream down\n"));
    }

    [Fact]
    public void Format_EmptyBody_ShowsStatusOnly()
    {
        Assert.Equal("HTTP 503 Service Unavailable", ProblemFormatter.Format(HttpStatusCode.ServiceUnavailable, ""));
    }

    [Fact]
    public void Format_LongNonJsonBody_IsTruncated()
    {
        var message = ProblemFormatter.Format(HttpStatusCode.InternalServerError, new string('x', 1000));

        Assert.Equal("HTTP 500 Internal Server Error: " + new string('x', 200) + "...", message);
    }
}
