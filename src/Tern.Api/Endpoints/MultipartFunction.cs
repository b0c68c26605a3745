using Tern.Api.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Tern.Api.Serialization;
using Tern.Core.Functions;

namespace Tern.Api.Endpoints;

/// <summary>multipart/form-data registration: a "function" part with the JSON settings (or plain form fields
/// name, runtime, handler) and a "code" file part. The file's name becomes codeFileName unless it ends in .zip.
/// The code part is not held in memory: ASP.NET Core buffers large parts to a temporary file, and the code store
/// reads it from there as a stream.</summary>
internal static class MultipartFunction
{
    /// <param name="Code">The uploaded package; null when the form has no code part.</param>
    public sealed record Parsed(FunctionSettings? Settings, IFormFile? Code, IResult? Problem);

    public static async Task<Parsed> ReadAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        if (request.ContentLength > limit) return new(null, null, ProblemResults.TooLarge($"a function upload may be at most {limit} bytes"));
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = limit, ValueLengthLimit = 1024 * 1024 }, ct);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            // No boundary, a part cut short, a part over a limit: the client sent a broken form, not a server error.
            return new(null, null, ProblemResults.BadRequest("Malformed form", $"the multipart/form-data body cannot be read: {e.Message}"));
        }
        var settings = form.TryGetValue("function", out var json) && !string.IsNullOrWhiteSpace(json)
            ? RequestBody.ParseJson(System.Text.Encoding.UTF8.GetBytes(json.ToString()), ApiJsonContext.Default.FunctionSettings)
            : new FunctionSettings();
        settings.Name ??= NonEmpty(form["name"]);
        settings.Runtime ??= NonEmpty(form["runtime"]);
        settings.Handler ??= NonEmpty(form["handler"]);

        var file = form.Files.GetFile("code");
        if (file is null) return new(settings, null, null); // validation reports the missing code with the other fields
        var fileName = Path.GetFileName(file.FileName);
        if (!fileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) && fileName.Length > 0) settings.CodeFileName ??= fileName;
        return new(settings, file, null);
    }

    private static string? NonEmpty(Microsoft.Extensions.Primitives.StringValues value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.ToString();
}
