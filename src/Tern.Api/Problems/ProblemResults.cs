using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Tern.Api.Problems;

/// <summary>Problem results endpoints return directly (without throwing).</summary>
internal static class ProblemResults
{
    /// <summary>Writes <paramref name="problem"/> as application/problem+json whatever the request's Accept header
    /// says, as <see cref="Results.Problem(ProblemDetails)"/> does. (IProblemDetailsService on its own writes only for
    /// an Accept that allows JSON: with Accept: application/xml a handled exception became a bodiless 500, the auth
    /// check threw, and status code pages fell back to text/plain.)</summary>
    public static Task WriteAsync(HttpContext context, ProblemDetails problem) => Results.Problem(problem).ExecuteAsync(context);

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
