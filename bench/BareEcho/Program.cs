using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

// POST /echo answers with the body it got. Run: dotnet BareEcho.dll --urls http://127.0.0.1:PORT
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapPost("/echo", async (HttpRequest request, HttpResponse response) =>
{
    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body);
    response.ContentType = "application/json";
    await response.Body.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length));
});
app.Run();
