using System.Text;
using System.Text.Json.Nodes;
using Tern.Api.Lambda;
using Tern.Core.Functions;
using Tern.Core.Invocations;

namespace Tern.Api.Tests.Lambda;

/// <summary>The pieces of the Lambda API that need no daemon: names and ARNs, the error payload, the log tail.</summary>
public sealed class LambdaUnitTests
{
    [Theory]
    [InlineData("hello", null, "hello", null)]
    [InlineData("hello:prod", null, "hello", "prod")]
    [InlineData("hello:$LATEST", null, "hello", null)]
    [InlineData("hello", "3", "hello", "3")]
    [InlineData("myfunction:prod", null, "myfunction", "prod")]
    [InlineData("arn:aws:lambda:eu-west-1:123456789012:function:hello", null, "hello", null)]
    [InlineData("arn:aws:lambda:eu-west-1:123456789012:function:hello:7", "7", "hello", "7")]
    [InlineData("123456789012:function:hello:live", null, "hello", "live")]
    public void FunctionNames_AndArns_Parse(string raw, string? query, string name, string? qualifier)
    {
        var parsed = LambdaFunctionName.Parse(raw, query);
        Assert.Equal(name, parsed.Name);
        Assert.Equal(qualifier, parsed.Qualifier);
    }

    [Theory]
    [InlineData("hello:prod", "live")]
    [InlineData("arn:aws:lambda:eu-west-1:123456789012:hello", null)]
    [InlineData("hello:Bad Alias!", null)]
    [InlineData("", null)]
    public void BadNames_AreInvalidParameterValue(string raw, string? query)
    {
        var e = Assert.Throws<LambdaException>(() => LambdaFunctionName.Parse(raw, query));
        Assert.Equal(LambdaErrorType.InvalidParameterValue, e.Type);
    }

    [Fact]
    public void ANameTernCannotHold_NamesNoFunction() =>
        Assert.Throws<FunctionNotFoundException>(() => LambdaFunctionName.Parse("UpperCase", null).ThrowIfUnknownShape());

    [Theory]
    [InlineData(InvocationError.Timeout, "Sandbox.Timedout", "Task timed out after 3.00 seconds")]
    [InlineData(InvocationError.OutOfMemory, "Runtime.OutOfMemory", "killed")]
    [InlineData(InvocationError.HandlerNotFound, "Runtime.HandlerNotFound", "killed")]
    [InlineData(InvocationError.HandlerFailed, InvocationError.HandlerFailed, "killed")]
    public void ErrorPayload_HasLambdasShape(string code, string type, string message)
    {
        var payload = JsonNode.Parse(LambdaErrorPayload.From(new InvocationError(code, "killed"), 3))!.AsObject();
        Assert.Equal(type, (string?)payload["errorType"]);
        Assert.Equal(message, (string?)payload["errorMessage"]);
        Assert.Empty(payload["stackTrace"]!.AsArray());
    }

    [Fact]
    public void ErrorPayload_CarriesTheHandlersOwnException_WhenItsBootstrapReportedOne()
    {
        var error = new InvocationError(InvocationError.HandlerFailed, "KeyError: 'cube'\nTraceback ...")
        {
            ErrorType = "KeyError", ErrorMessage = "'cube'", StackTrace = ["  File \"/code/app.py\", line 3, in handler"],
        };
        var payload = JsonNode.Parse(LambdaErrorPayload.From(error, 3))!.AsObject();
        Assert.Equal("KeyError", (string?)payload["errorType"]);
        Assert.Equal("'cube'", (string?)payload["errorMessage"]);
        Assert.Equal(["  File \"/code/app.py\", line 3, in handler"], payload["stackTrace"]!.AsArray().Select(f => (string)f!));
    }

    [Fact]
    public void LogTail_KeepsTheLast4KB_FromAWholeCharacter()
    {
        var text = new string('x', 5000) + string.Concat(Enumerable.Repeat("é", 3000)); // é is two bytes
        var last = LambdaLogTail.Last(Encoding.UTF8.GetBytes(text));
        Assert.True(last.Length <= LambdaLogTail.MaxBytes && last.Length >= LambdaLogTail.MaxBytes - 1);
        Assert.Equal(text[^(last.Length / 2)..], Encoding.UTF8.GetString(last));
    }

    [Fact]
    public void LogTail_FramesTheCallsOutputAsLambdaDoes()
    {
        var result = new InvocationResult { ExecutionId = "e1", Status = InvocationStatus.Success, DurationMs = 12.5, StderrTail = "hello\n" };
        var log = Encoding.UTF8.GetString(Convert.FromBase64String(LambdaLogTail.Build("e1", "$LATEST", result, 256)));
        Assert.StartsWith("START RequestId: e1 Version: $LATEST\nhello\nEND RequestId: e1\nREPORT RequestId: e1\tDuration: 12.50 ms", log);
        Assert.Contains("Memory Size: 256 MB", log);
    }
}
