using Microsoft.AspNetCore.Http;
using Tern.Api.Serialization;
using Tern.Core.Functions;

namespace Tern.Api.Endpoints;

/// <summary>multipart/form-data registration: a "function" part with the JSON settings (or plain form fields
/// name, runtime, handler) and a "code" file part. The file's name becomes codeFileName unless it ends in .zip.</summary>
internal static class MultipartFunction
{
    public sealed record Parsed(FunctionSettings? Settings, IResult? Problem);

    public static async Task<Parsed> ReadAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        if (request.ContentLength > limit) return new(null, Problems.Problems.TooLarge($"a function upload may be at most {limit} bytes"));
        var form = await request.ReadFormAsync(ct);
        var settings = form.TryGetValue("function", out var json) && !string.IsNullOrWhiteSpace(json)
            ? RequestBody.ParseJson(System.Text.Encoding.UTF8.GetBytes(json.ToString()), ApiJsonContext.Default.FunctionSettings)
            : new FunctionSettings();
        settings.Name ??= NonEmpty(form["name"]);
        settings.Runtime ??= NonEmpty(form["runtime"]);
        settings.Handler ??= NonEmpty(form["handler"]);

        var file = form.Files.GetFile("code");
        if (file is null) return new(settings, null); // validation reports the missing code with the other fields
        using var content = new MemoryStream((int)file.Length);
        await file.CopyToAsync(content, ct);
        var bytes = content.ToArray();
        settings.Code = Convert.ToBase64String(bytes);
        var fileName = Path.GetFileName(file.FileName);
        if (!fileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)) settings.CodeFileName ??= fileName;
        return new(settings, null);
    }

    private static string? NonEmpty(Microsoft.Extensions.Primitives.StringValues value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.ToString();
}
