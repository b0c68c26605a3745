using Microsoft.AspNetCore.Http;

namespace Tern.Api.Problems;

/// <summary>Problem results endpoints return directly (without throwing).</summary>
internal static class Problems
{
    public static IResult BadRequest(string title, string detail) =>
        Results.Problem(ProblemExceptionHandler.Problem(StatusCodes.Status400BadRequest, title, detail));

    public static IResult NotFound(string title, string detail) =>
        Results.Problem(ProblemExceptionHandler.Problem(StatusCodes.Status404NotFound, title, detail));

    public static IResult Forbidden(string detail) =>
        Results.Problem(ProblemExceptionHandler.Problem(StatusCodes.Status403Forbidden, "Forbidden", detail));

    public static IResult Conflict(string title, string detail) =>
        Results.Problem(ProblemExceptionHandler.Problem(StatusCodes.Status409Conflict, title, detail));

    public static IResult TooLarge(string detail) =>
        Results.Problem(ProblemExceptionHandler.Problem(StatusCodes.Status413PayloadTooLarge, "Request too large", detail));

    public static IResult UnsupportedMediaType(string detail) =>
        Results.Problem(ProblemExceptionHandler.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", detail));
}
